import { ArgsType, Field } from '@nestjs/graphql';
import { IsObject, Matches, MaxLength } from 'class-validator';
import { APP_NAME } from '../../apps/dto/register-app.input';
import { GraphQLJSON } from '../../graphql/json.scalar';

@ArgsType()
export class UpdateAppSettingsArgs {
  @Field()
  @MaxLength(200)
  @Matches(APP_NAME, { message: 'appName must be a reverse-DNS name such as de.easy-m.todos' })
  appName!: string;

  @Field(() => GraphQLJSON, { description: 'Keys to set; merged into the current values, then checked against the schema' })
  @IsObject({ message: 'values must be a JSON object' })
  values!: Record<string, unknown>;
}

@ArgsType()
export class AppSettingsArgs {
  @Field()
  @MaxLength(200)
  @Matches(APP_NAME, { message: 'appName must be a reverse-DNS name such as de.easy-m.todos' })
  appName!: string;
}
