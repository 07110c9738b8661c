import { ArgsType, Field } from '@nestjs/graphql';
import { Matches, MaxLength } from 'class-validator';
import { APP_NAME } from './register-app.input';

@ArgsType()
export class AppNameArgs {
  @Field()
  @MaxLength(200)
  @Matches(APP_NAME, { message: 'name must be a reverse-DNS name such as de.easy-m.todos' })
  name!: string;
}
