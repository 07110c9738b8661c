import { ArgsType, Field } from '@nestjs/graphql';
import { IsEnum, IsNotEmpty, IsOptional, MaxLength } from 'class-validator';
import { SubjectType } from '../subject-type';

@ArgsType()
export class PermissionGrantsArgs {
  @Field(() => SubjectType, { nullable: true, description: 'Only grants to this kind of subject' })
  @IsOptional()
  @IsEnum(SubjectType)
  subjectType?: SubjectType;

  @Field({ nullable: true, description: 'Only grants to this user id or app name' })
  @IsOptional()
  @IsNotEmpty()
  @MaxLength(200)
  subject?: string;
}
