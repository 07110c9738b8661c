import { ArgsType, Field } from '@nestjs/graphql';
import { IsString, MaxLength } from 'class-validator';
import { MAX_EMAIL_LENGTH } from '../../users/email';
import { PASSWORD_MAX_LENGTH } from '../../users/password-policy';

/** Only bounded, not checked for form: any other answer than the one INVALID_CREDENTIALS would tell callers something. */
@ArgsType()
export class LoginArgs {
  @Field()
  @IsString()
  @MaxLength(MAX_EMAIL_LENGTH)
  email!: string;

  @Field()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;
}
