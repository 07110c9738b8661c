import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';
import { Grant, GrantLoader } from './grant-loader';
import { PermissionGrantEntity } from './permission-grant.entity';
import { PermissionSubject } from './subject-type';

/** Reads a subject's grants straight from `permission_grants` (one indexed query). */
@Injectable()
export class DatabaseGrantLoader extends GrantLoader {
  constructor(private readonly unitOfWork: UnitOfWork) {
    super();
  }

  async loadGrants(subject: PermissionSubject): Promise<readonly Grant[]> {
    const rows = await this.unitOfWork.read((manager) =>
      manager.find(PermissionGrantEntity, { select: { action: true, resource: true }, where: { subjectType: subject.type, subject: subject.id } }),
    );
    // Plain objects: what a cache in front of this loader would store must survive JSON.
    return rows.map(({ action, resource }) => ({ action, resource }));
  }
}
