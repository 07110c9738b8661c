import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlContextType, GqlExecutionContext } from '@nestjs/graphql';
import { ForbiddenError, UnauthenticatedError } from '../common/app-errors';
import { NOT_AUTHENTICATED_MESSAGE } from '../graphql/current-principal.decorator';
import { GraphqlContext } from '../graphql/graphql-context';
import { ACCESS_POLICY, AccessPolicy, PermissionPolicy } from './access-policy';
import { ANY_RESOURCE, PermissionChecker } from './permission-checker';

/** Longest resource quoted back in a FORBIDDEN message (the argument is the caller's own, but may be long). */
const MAX_QUOTED_RESOURCE = 200;

/**
 * The global guard of every GraphQL operation (registered as APP_GUARD). It
 * runs before argument validation, so a caller without the right learns
 * nothing from validation errors. An operation that declares no access
 * policy is refused: forgetting the decorator fails closed.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger(AccessGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly checker: PermissionChecker,
  ) {}

  /** Per resolver class, per handler: the policy it declares (undefined: none). Decorators are fixed once the classes are loaded. */
  private readonly policies = new WeakMap<Function, Map<Function, AccessPolicy | undefined>>();

  /**
   * A boolean when the answer is at hand — every policy but `permission`, and
   * that one too when the principal's grants are in L1 — and a promise only
   * when the grants must be loaded: Nest awaits whichever it gets, and a
   * promise (with the `await` of it) costs every request more than the check.
   * Refusals are thrown either way.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // HTTP controllers (only GET /health) are public by design; everything with data goes through GraphQL.
    if (context.getType<GqlContextType>() !== 'graphql') return true;
    const policy = this.policyOf(context);
    if (!policy) {
      const operation = `${context.getClass().name}.${context.getHandler().name}`;
      this.logger.error(`${operation} declares no access policy (@Public, @RequiresSession, @RequiresAdmin or @RequiresPermission); refusing it`);
      throw new ForbiddenError('This operation is not available');
    }
    if (policy.kind === 'public') return true;

    const gql = GqlExecutionContext.create(context);
    const { principal } = gql.getContext<GraphqlContext>();
    if (!principal) throw new UnauthenticatedError(NOT_AUTHENTICATED_MESSAGE);
    switch (policy.kind) {
      case 'session':
        return true;
      case 'admin':
        if (principal.kind === 'user' && principal.isAdmin) return true;
        throw new ForbiddenError('Only an admin may do this');
      case 'permission': {
        const resource = resourceOf(policy, gql.getArgs());
        if (policy.allowSelf && principal.kind === 'user' && resource === principal.userId) return true;
        if (resource === undefined) return refuse(policy, resource);
        const allowed = this.checker.isAllowedNow(principal, policy.action, resource);
        if (allowed instanceof Promise) return allowed.then((yes) => yes || refuse(policy, resource));
        return allowed || refuse(policy, resource);
      }
    }
  }

  /** What `Reflector.getAllAndOverride(ACCESS_POLICY, [handler, class])` answers, looked up once per handler. */
  private policyOf(context: ExecutionContext): AccessPolicy | undefined {
    const handler = context.getHandler();
    const resolverClass = context.getClass();
    let byHandler = this.policies.get(resolverClass);
    if (!byHandler) this.policies.set(resolverClass, (byHandler = new Map()));
    if (byHandler.has(handler)) return byHandler.get(handler);
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [handler, resolverClass]);
    byHandler.set(handler, policy);
    return policy;
  }
}

function refuse(policy: PermissionPolicy, resource: string | undefined): never {
  throw new ForbiddenError(`Permission "${policy.action}" on "${quote(resource ?? '')}" is required`);
}

/** The resource named by the policy's argument path; undefined when that argument is not a string (refused). */
export function resourceOf(policy: PermissionPolicy, args: Record<string, unknown>): string | undefined {
  if (policy.resource === undefined) return ANY_RESOURCE;
  let value: unknown = args;
  for (const key of policy.resourcePath ?? policy.resource.split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return typeof value === 'string' ? value : undefined;
}

function quote(resource: string): string {
  return resource.length > MAX_QUOTED_RESOURCE ? `${resource.slice(0, MAX_QUOTED_RESOURCE)}…` : resource;
}
