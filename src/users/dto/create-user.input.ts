import { Field, InputType } from '@nestjs/graphql';
import { IsEmail, IsEnum, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MAX_EMAIL_LENGTH } from '../email';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_TOO_LONG, PASSWORD_TOO_SHORT } from '../password-policy';
import { UserRole } from '../user-role';
import { NormalizeDisplayName, NormalizeEmail } from './user-fields';

@InputType()
export class CreateUserInput {
  @Field({ description: 'Unique; compared without regard to case' })
  @NormalizeEmail()
  @MaxLength(MAX_EMAIL_LENGTH)
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @Field({ description: `At least ${PASSWORD_MIN_LENGTH} characters` })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: PASSWORD_TOO_SHORT })
  @MaxLength(PASSWORD_MAX_LENGTH, { message: PASSWORD_TOO_LONG })
  password!: string;

  @Field(() => String, { nullable: true })
  @NormalizeDisplayName()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  displayName?: string | null;

  @Field(() => UserRole, { nullable: true, description: 'Default USER; only an admin may create an ADMIN' })
  @IsOptional()
  @IsEnum(UserRole)
  role?: UserRole;
}
