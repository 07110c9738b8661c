import { Field, ID, ObjectType } from '@nestjs/graphql';
import { AppState } from '../app-state';

/**
 * Plain fields only. `appStateChanged` executes each event once per query and
 * shares the result among its subscribers (SharedSubscriptionExecution), with
 * no client's context: a field resolver here that depended on who asks would
 * see no principal. Such a field belongs behind its own, unshared, query.
 */
@ObjectType('App', { description: 'An application known to the server and where it is in its lifecycle' })
export class AppModel {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Reverse-DNS name, e.g. de.easy-m.todos' })
  name!: string;

  @Field({ description: 'Semantic version' })
  version!: string;

  @Field(() => AppState)
  state!: AppState;

  @Field(() => Date, { nullable: true, description: 'When the app was last installed' })
  installedAt!: Date | null;

  @Field(() => Date)
  updatedAt!: Date;
}
