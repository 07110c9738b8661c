import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { UnauthenticatedError } from '../common/app-errors';
import { GraphqlContext } from './graphql-context';

export const NOT_AUTHENTICATED_MESSAGE =
  'Not authenticated: log in and send the session token as "Authorization: Bearer <token>" (a missing, expired or revoked token is refused)';

/**
 * The principal of the current operation, for resolvers behind a session
 * policy. Throws UNAUTHENTICATED if there is none, so a resolver can never
 * attribute a change to nobody even if its policy were wrong.
 */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const { principal } = GqlExecutionContext.create(context).getContext<GraphqlContext>();
  if (!principal) throw new UnauthenticatedError(NOT_AUTHENTICATED_MESSAGE);
  return principal;
});

