import { ArgsType, Field, ID } from '@nestjs/graphql';
import { IsUUID } from 'class-validator';

@ArgsType()
export class SessionsArgs {
  @Field(() => ID, { description: 'Whose open sessions' })
  @IsUUID('all', { message: 'userId must be a user id (a UUID)' })
  userId!: string;
}
