import { Field, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSON } from '../../graphql/json.scalar';

@ObjectType('AppSettings', { description: "An app's settings; version increases with every change" })
export class AppSettingsModel {
  @Field()
  appName!: string;

  @Field(() => GraphQLJSON)
  values!: Record<string, unknown>;

  @Field(() => Int)
  version!: number;

  @Field(() => Date)
  updatedAt!: Date;
}
