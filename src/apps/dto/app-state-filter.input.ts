import { Field, InputType } from '@nestjs/graphql';
import { ArrayMaxSize, IsArray, IsOptional, Matches } from 'class-validator';
import { APP_NAME } from './register-app.input';

@InputType()
export class AppStateFilter {
  @Field(() => [String], { nullable: true, description: 'Only changes of these apps; all apps when omitted' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(APP_NAME, { each: true, message: 'each app name must be a reverse-DNS name such as de.easy-m.todos' })
  appNames?: string[];
}
