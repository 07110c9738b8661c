import { Args, Context, Resolver, Subscription } from '@nestjs/graphql';
import { UnauthenticatedError } from '../common/app-errors';
import { GraphqlContext } from '../graphql/graphql-context';
import { shareExecutions } from '../graphql/shared-subscription-execution';
import { WebSocketCloseCodes } from '../graphql/websocket-connections';
import { RequiresSession } from '../permissions/access.decorators';
import { PermissionChecker } from '../permissions/permission-checker';
import { AppStateBridge, AppStateChangedPayload } from './app-state.bridge';
import { AppModel } from './dto/app.model';
import { AppStateFilter } from './dto/app-state-filter.input';

/** The permission a client needs, per app, to see its changes. */
export const READ_APPS = 'apps.read';

@Resolver(() => AppModel)
export class AppStateResolver {
  constructor(
    private readonly bridge: AppStateBridge,
    private readonly permissions: PermissionChecker,
  ) {}

  @Subscription(() => AppModel, {
    description: 'Every app state change made through any instance; only apps the subscriber may read (apps.read on the app name)',
  })
  @RequiresSession()
  appStateChanged(
    @Args('filter', { type: () => AppStateFilter, nullable: true }) filter: AppStateFilter | undefined,
    @Context() context: GraphqlContext,
  ): AsyncIterableIterator<AppStateChangedPayload> {
    const { principal } = context;
    if (!principal) throw new UnauthenticatedError('Subscribing needs a session: pass connectionParams.authorization');
    const isAdmin = principal.kind === 'user' && principal.isAdmin;
    // Every client gets the bridge's one App object per event, and App's fields are plain properties of it (no field
    // resolvers, nothing from the context): clients with the same query and variables can share one execution.
    return shareExecutions(
      this.bridge.subscribe({
        appNames: filter?.appNames,
        principalKey: principal.kind === 'user' ? `user:${principal.userId}` : `app:${principal.appName}`,
        // Admins may read everything: answer without a promise, it is the common case of operator consoles.
        canRead: isAdmin ? () => true : (appName) => this.permissions.isAllowed(principal, READ_APPS, appName),
        onOverflow: () => context.socket?.close(WebSocketCloseCodes.SLOW_CONSUMER, 'Too slow: the subscription buffer overflowed'),
      }),
    );
  }
}
