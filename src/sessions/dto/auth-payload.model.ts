import { Field, ID, ObjectType } from '@nestjs/graphql';
import { UserModel } from '../../users/dto/user.model';

@ObjectType('AuthPayload', { description: 'A new session: send `token` as "Authorization: Bearer <token>"' })
export class AuthPayloadModel {
  @Field({ description: 'Opaque; shown once, stored by the server only as a hash' })
  token!: string;

  @Field(() => UserModel)
  user!: UserModel;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => ID, { description: 'The session, e.g. to revoke it later' })
  sessionId!: string;
}
