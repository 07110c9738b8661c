import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SubjectType } from './subject-type';

/** A row of `permission_grants`: `subject` may do `action` on resources matching `resource`. */
@Entity('permission_grants')
export class PermissionGrantEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'subject_type', type: 'varchar', length: 8 })
  subjectType!: SubjectType;

  /** A user id (USER) or an app name (APP). */
  @Column({ type: 'varchar', length: 200 })
  subject!: string;

  /** An action or action pattern, e.g. `settings.write` or `settings.*`. */
  @Column({ type: 'varchar', length: 200 })
  action!: string;

  /** A resource pattern, e.g. `de.easy-m.*`. */
  @Column({ type: 'varchar', length: 200 })
  resource!: string;

  @Column({ name: 'granted_by', type: 'varchar', length: 200 })
  grantedBy!: string;

  @Column({ name: 'granted_at', type: Date })
  grantedAt!: Date;
}
