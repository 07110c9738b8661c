import { Args, Query, Resolver } from '@nestjs/graphql';
import { RequiresAdmin } from '../permissions/access.decorators';
import { AuditLogService } from './audit-log.service';
import { AuditEntryModel } from './dto/audit-entry.model';
import { AuditLogArgs } from './dto/audit-log.args';

@Resolver(() => AuditEntryModel)
export class AuditLogResolver {
  constructor(private readonly auditLogService: AuditLogService) {}

  @Query(() => [AuditEntryModel], { description: 'The newest audit entries, newest first (admins only)' })
  @RequiresAdmin()
  async auditLog(@Args() { limit }: AuditLogArgs): Promise<AuditEntryModel[]> {
    return (await this.auditLogService.latest(limit)).map((entry) => ({
      id: entry.eventId,
      type: entry.eventType,
      actor: entry.actor,
      target: entry.target,
      summary: entry.summary,
      details: entry.details,
      correlationId: entry.correlationId,
      occurredAt: entry.occurredAt,
    }));
  }
}
