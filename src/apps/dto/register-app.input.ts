import { Field, InputType } from '@nestjs/graphql';
import { IsObject, IsOptional, Matches, MaxLength } from 'class-validator';
import { GraphQLJSON } from '../../graphql/json.scalar';

/** Reverse-DNS: at least two dot-separated labels of lower-case letters, digits and inner hyphens. */
export const APP_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$/;
/** Semantic Versioning 2.0.0. */
export const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

@InputType()
export class RegisterAppInput {
  @Field({ description: 'Reverse-DNS name, e.g. de.easy-m.todos' })
  @MaxLength(200)
  @Matches(APP_NAME, { message: 'name must be a reverse-DNS name such as de.easy-m.todos (lower case, at least two labels)' })
  name!: string;

  @Field({ description: 'Semantic version, e.g. 1.4.0' })
  @MaxLength(64)
  @Matches(SEMVER, { message: 'version must be a semantic version such as 1.4.0' })
  version!: string;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON Schema the app settings must satisfy' })
  @IsOptional()
  @IsObject({ message: 'settingsSchema must be a JSON Schema object' })
  settingsSchema?: Record<string, unknown>;
}
