import { Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ForbiddenError, UnauthenticatedError } from '../common/app-errors';
import { Principal } from '../common/principal';
import { GraphqlContext } from '../graphql/graphql-context';
import { Public, RequiresAdmin, RequiresSession } from './access.decorators';
import { AccessGuard, resourceOf } from './access.guard';
import { Grant, GrantLoader } from './grant-loader';
import { PermissionChecker } from './permission-checker';
import { RequiresPermission } from './requires-permission.decorator';

class Resolver {
  @Public()
  login(): void {}

  @RequiresSession()
  me(): void {}

  @RequiresAdmin()
  users(): void {}

  @RequiresPermission('apps.install', { resource: 'name' })
  installApp(): void {}

  @RequiresPermission('apps.register', { resource: 'input.name' })
  registerApp(): void {}

  @RequiresPermission('apps.read')
  apps(): void {}

  @RequiresPermission('users.update', { resource: 'id', allowSelf: true })
  updateUser(): void {}

  forgotten(): void {}
}

class FixedGrants extends GrantLoader {
  async loadGrants(): Promise<readonly Grant[]> {
    return [
      { action: 'apps.install', resource: 'de.easy-m.*' },
      { action: 'apps.register', resource: 'de.easy-m.*' },
    ];
  }
}

const user = (isAdmin = false): Principal => ({ kind: 'user', userId: 'u-1', email: 'u@example.com', isAdmin, sessionId: 's-1' });

/** A GraphQL execution context as Nest builds it: [root, args, context, info]. */
function graphqlCall(method: keyof Resolver, args: Record<string, unknown>, principal: Principal | null) {
  const context: GraphqlContext = { principal };
  const host = new ExecutionContextHost([{}, args, context, {}], Resolver, Resolver.prototype[method]);
  host.setType('graphql');
  return host;
}

describe('AccessGuard', () => {
  const guard = new AccessGuard(new Reflector(), new PermissionChecker(new FixedGrants()));
  // Nest awaits canActivate, whether it answers at once or with a promise: so do these tests, a refusal thrown at once included.
  const check = async (method: keyof Resolver, args: Record<string, unknown>, principal: Principal | null) => guard.canActivate(graphqlCall(method, args, principal));

  beforeAll(() => Logger.overrideLogger(false));

  it('lets anyone call a public operation', async () => {
    await expect(check('login', {}, null)).resolves.toBe(true);
  });

  it.each(['me', 'users', 'installApp', 'apps'] as const)('refuses %s without a principal as UNAUTHENTICATED', async (method) => {
    await expect(check(method, { name: 'de.easy-m.todos' }, null)).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('lets any principal call a session operation', async () => {
    await expect(check('me', {}, user())).resolves.toBe(true);
  });

  it('keeps admin operations to admins, whatever the grants', async () => {
    await expect(check('users', {}, user())).rejects.toThrow(new ForbiddenError('Only an admin may do this'));
    await expect(check('users', {}, user(true))).resolves.toBe(true);
  });

  it('checks the permission on the resource the operation names', async () => {
    await expect(check('installApp', { name: 'de.easy-m.todos' }, user())).resolves.toBe(true);
    await expect(check('installApp', { name: 'de.other.todos' }, user())).rejects.toThrow('Permission "apps.install" on "de.other.todos" is required');
    await expect(check('registerApp', { input: { name: 'de.easy-m.new' } }, user())).resolves.toBe(true);
    await expect(check('registerApp', { input: { name: 'com.evil.app' } }, user())).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('checks an operation without a resource argument against *', async () => {
    await expect(check('apps', {}, user())).rejects.toThrow('Permission "apps.read" on "*" is required');
    await expect(check('apps', {}, user(true))).resolves.toBe(true);
  });

  it('lets a user act on their own record when the operation allows it', async () => {
    await expect(check('updateUser', { id: 'u-1' }, user())).resolves.toBe(true);
    await expect(check('updateUser', { id: 'u-2' }, user())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(check('updateUser', { id: 'u-1' }, { kind: 'app', appName: 'u-1' })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses a resource argument that is not a string', async () => {
    await expect(check('installApp', { name: 42 }, user())).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses, even to an admin, an operation that declares no policy (fail closed)', async () => {
    await expect(check('forgotten', {}, user(true))).rejects.toThrow(new ForbiddenError('This operation is not available'));
    await expect(check('forgotten', {}, null)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('leaves HTTP controllers alone (GET /health)', async () => {
    const host = new ExecutionContextHost([{}, {}], Resolver, Resolver.prototype.forgotten);
    host.setType('http');
    expect(guard.canActivate(host)).toBe(true);
  });
});

describe('resourceOf', () => {
  it.each([
    [{ kind: 'permission', action: 'a' } as const, {}, '*'],
    [{ kind: 'permission', action: 'a', resource: 'name' } as const, { name: 'x' }, 'x'],
    [{ kind: 'permission', action: 'a', resource: 'input.name' } as const, { input: { name: 'y' } }, 'y'],
    [{ kind: 'permission', action: 'a', resource: 'input.name' } as const, { input: null }, undefined],
    [{ kind: 'permission', action: 'a', resource: 'name' } as const, {}, undefined],
  ])('reads %j from %j as %p', (policy, args, expected) => {
    expect(resourceOf(policy, args)).toBe(expected);
  });
});
