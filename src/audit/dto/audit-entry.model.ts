import { Field, ID, ObjectType } from '@nestjs/graphql';
import { GraphQLJSON } from '../../graphql/json.scalar';

@ObjectType('AuditEntry', { description: 'A sensitive change, as recorded from its event' })
export class AuditEntryModel {
  @Field(() => ID, { description: 'The event id' })
  id!: string;

  @Field({ description: 'The event type, e.g. user.deleted' })
  type!: string;

  @Field(() => String, { nullable: true, description: 'Who did it: a user id, app:<name> or system' })
  actor!: string | null;

  @Field({ description: 'What it concerned, e.g. user:<id>, session:<id>, app:<name>' })
  target!: string;

  @Field()
  summary!: string;

  @Field(() => GraphQLJSON, { description: "The event's payload" })
  details!: Record<string, unknown>;

  @Field()
  correlationId!: string;

  @Field(() => Date)
  occurredAt!: Date;
}
