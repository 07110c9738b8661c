import { ArgsType, Field, ID } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsUUID, ValidateNested } from 'class-validator';
import { UpdateUserInput } from './update-user.input';

@ArgsType()
export class UpdateUserArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'id must be a user id (a UUID)' })
  id!: string;

  @Field(() => UpdateUserInput)
  @ValidateNested()
  @Type(() => UpdateUserInput)
  input!: UpdateUserInput;
}
