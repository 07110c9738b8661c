import { Field, ObjectType } from '@nestjs/graphql';
import { SubjectType } from '../subject-type';

@ObjectType('PermissionGrant', { description: 'A permission held by a user or an app' })
export class PermissionGrantModel {
  @Field(() => SubjectType)
  subjectType!: SubjectType;

  @Field({ description: 'A user id (USER) or an app name (APP)' })
  subject!: string;

  @Field()
  action!: string;

  @Field()
  resource!: string;

  @Field({ description: 'Id of the admin who granted it' })
  grantedBy!: string;

  @Field(() => Date)
  grantedAt!: Date;
}
