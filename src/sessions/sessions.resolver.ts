import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Principal } from '../common/principal';
import { ClientAddress } from '../graphql/client-address.decorator';
import { CurrentPrincipal } from '../graphql/current-principal.decorator';
import { Public, RequiresSession } from '../permissions/access.decorators';
import { RequiresPermission } from '../permissions/requires-permission.decorator';
import { toUserModel } from '../users/users.resolver';
import { AuthPayloadModel } from './dto/auth-payload.model';
import { LoginArgs } from './dto/login.args';
import { SessionIdArgs } from './dto/session-id.args';
import { SessionModel } from './dto/session.model';
import { SessionsArgs } from './dto/sessions.args';
import { SessionsService } from './sessions.service';

@Resolver(() => SessionModel)
export class SessionsResolver {
  constructor(private readonly sessionsService: SessionsService) {}

  @Mutation(() => AuthPayloadModel, { description: 'Opens a session; repeated failures for an account or an address are refused for a while' })
  @Public()
  async login(@Args() { email, password }: LoginArgs, @ClientAddress() clientAddress: string): Promise<AuthPayloadModel> {
    const { token, session, user } = await this.sessionsService.login(email, password, clientAddress);
    return { token, user: toUserModel(user), expiresAt: session.expiresAt, sessionId: session.id };
  }

  @Mutation(() => Boolean, { description: 'Ends the session this request came with' })
  @RequiresSession()
  logout(@CurrentPrincipal() principal: Principal): Promise<boolean> {
    return this.sessionsService.logout(principal);
  }

  /** Any session may end its owner's other sessions; ending another user's needs `sessions.revoke` on that user (checked in the service, which knows the owner). */
  @Mutation(() => Boolean, { description: "Ends a session: your own, or another user's with permission sessions.revoke on that user; false if it had ended" })
  @RequiresSession()
  revokeSession(@Args() { id }: SessionIdArgs, @CurrentPrincipal() principal: Principal): Promise<boolean> {
    return this.sessionsService.revoke(id, principal);
  }

  @Query(() => [SessionModel], { description: "A user's open sessions: your own, or with permission sessions.read on that user" })
  @RequiresPermission('sessions.read', { resource: 'userId', allowSelf: true })
  async sessions(@Args() { userId }: SessionsArgs): Promise<SessionModel[]> {
    return (await this.sessionsService.findOpen(userId)).map(({ id, userId: owner, createdAt, expiresAt }) => ({ id, userId: owner, createdAt, expiresAt }));
  }
}
