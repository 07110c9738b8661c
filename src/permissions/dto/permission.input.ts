import { Field, InputType } from '@nestjs/graphql';
import { IsEnum, IsNotEmpty, Matches, MaxLength } from 'class-validator';
import { GRANT_PATTERN, GRANT_PATTERN_RULE } from '../resource-pattern';
import { SubjectType } from '../subject-type';

@InputType({ description: 'A grant: the subject may do `action` on every resource matching `resource` ("*" matches any characters)' })
export class PermissionInput {
  @Field(() => SubjectType)
  @IsEnum(SubjectType)
  subjectType!: SubjectType;

  @Field({ description: 'A user id (USER) or an app name (APP)' })
  @IsNotEmpty()
  @MaxLength(200)
  subject!: string;

  @Field({ description: 'An action such as settings.write, or a pattern such as settings.*' })
  @Matches(GRANT_PATTERN, { message: `action ${GRANT_PATTERN_RULE}` })
  action!: string;

  @Field({ description: 'A resource pattern such as de.easy-m.* (app names, event types, user ids)' })
  @Matches(GRANT_PATTERN, { message: `resource ${GRANT_PATTERN_RULE}` })
  resource!: string;
}
