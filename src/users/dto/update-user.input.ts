import { Field, InputType } from '@nestjs/graphql';
import { IsEmail, IsEnum, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { MAX_EMAIL_LENGTH } from '../email';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_TOO_LONG, PASSWORD_TOO_SHORT } from '../password-policy';
import { UserRole } from '../user-role';
import { NormalizeDisplayName, NormalizeEmail } from './user-fields';

@InputType({ description: 'The fields to change; those left out stay as they are' })
export class UpdateUserInput {
  @Field({ nullable: true })
  @IsOptional()
  @NormalizeEmail()
  @MaxLength(MAX_EMAIL_LENGTH)
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;

  @Field(() => String, { nullable: true, description: 'null or empty removes it' })
  @NormalizeDisplayName()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  displayName?: string | null;

  @Field({ nullable: true, description: `A new password, at least ${PASSWORD_MIN_LENGTH} characters` })
  @IsOptional()
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: PASSWORD_TOO_SHORT })
  @MaxLength(PASSWORD_MAX_LENGTH, { message: PASSWORD_TOO_LONG })
  password?: string;

  @Field({ nullable: true, description: 'Required to change your own password' })
  @IsOptional()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword?: string;

  @Field(() => UserRole, { nullable: true, description: 'Only an admin may change a role' })
  @IsOptional()
  @IsEnum(UserRole)
  role?: UserRole;
}
