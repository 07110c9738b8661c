import { Field, ID, ObjectType } from '@nestjs/graphql';
import { UserRole } from '../user-role';

@ObjectType('User', { description: 'A person who can log in; never exposes the password or its hash' })
export class UserModel {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Normalized to lower case' })
  email!: string;

  @Field(() => String, { nullable: true })
  displayName!: string | null;

  @Field(() => UserRole)
  role!: UserRole;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}
