import { Field, ID, ObjectType } from '@nestjs/graphql';

@ObjectType('Session', { description: 'An open session (never its token)' })
export class SessionModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  expiresAt!: Date;
}
