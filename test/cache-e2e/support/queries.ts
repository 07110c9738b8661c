import { randomBytes } from 'node:crypto';
import type { CacheNamespace } from '../../../src/cache/cache-namespace';
import type { CacheNamespaceStats } from '../../../src/cache/cache-stats';
import type { HealthReport } from '../../../src/health/health.controller';
import type { GraphQLResponse } from '../../support/app-server-harness';
import { waitFor } from '../../support/wait-for';

export const REGISTER = 'mutation Register($input: RegisterAppInput!) { registerApp(input: $input) { id name state } }';
export const APP = 'query App($name: String!) { app(name: $name) { id name version state installedAt updatedAt } }';
export const INSTALL = 'mutation Install($name: String!) { installApp(name: $name) { name state installedAt } }';
export const SETTINGS = 'query Settings($appName: String!) { appSettings(appName: $appName) { appName values version updatedAt } }';
export const UPDATE_SETTINGS =
  'mutation Update($appName: String!, $values: JSON!) { updateAppSettings(appName: $appName, values: $values) { appName values version updatedAt } }';

export const THEME_SCHEMA = {
  type: 'object',
  properties: { theme: { type: 'string', enum: ['light', 'dark'] }, pageSize: { type: 'integer', minimum: 1, maximum: 100 } },
  additionalProperties: false,
};

export interface Settings {
  appName: string;
  values: Record<string, unknown>;
  version: number;
  updatedAt: string;
}

export interface App {
  id: string;
  name: string;
  state: string;
  installedAt: string | null;
}

/** Anything that answers GraphQL and GET /health: an in-process RunningServer or a ServerProcess. */
export interface Instance {
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
}

export const uniqueAppName = (label: string) => `de.cache-e2e.${label}-${randomBytes(4).toString('hex')}`;

/** The data of a response that must have succeeded; any GraphQL or HTTP error fails the test with the error itself. */
export async function ok<T = Record<string, any>>(response: Promise<GraphQLResponse<T>>): Promise<T> {
  const { status, data, errors } = await response;
  if (status !== 200 || errors !== undefined || !data) throw new Error(`Expected a successful answer, got ${status}: ${JSON.stringify(errors ?? data)}`);
  return data;
}

export async function settingsOn(server: Instance, appName: string): Promise<Settings | null> {
  return (await ok<{ appSettings: Settings | null }>(server.gql(SETTINGS, { appName }))).appSettings;
}

export async function appOn(server: Instance, name: string): Promise<App | null> {
  return (await ok<{ app: App | null }>(server.gql(APP, { name }))).app;
}

/** Registers `name` through `server`, with THEME_SCHEMA unless told `settingsSchema: null` (no schema). */
export async function register(server: Instance, name: string, settingsSchema: object | null = THEME_SCHEMA): Promise<void> {
  await ok(server.gql(REGISTER, { input: { name, version: '1.0.0', ...(settingsSchema ? { settingsSchema } : {}) } }));
}

export async function updateSettings(server: Instance, appName: string, values: Record<string, unknown>): Promise<Settings> {
  return (await ok<{ updateAppSettings: Settings }>(server.gql(UPDATE_SETTINGS, { appName, values }))).updateAppSettings;
}

export function statsIn(health: HealthReport, namespace: CacheNamespace): CacheNamespaceStats {
  return health.cache.namespaces[namespace];
}

/**
 * Reads until a read is answered from L1 without loading: the entry is then
 * cached on that instance. (The first reads may race the events of the set-up
 * that drop it again; that is why this waits instead of reading twice.)
 * `lookupsPerRead`: how many lookups of the namespace one read makes (an
 * authenticated request makes two in `sessions`: the token, then the session).
 */
export async function warmInL1(read: () => Promise<unknown>, stats: () => Promise<CacheNamespaceStats>, what: string, lookupsPerRead = 1): Promise<void> {
  await waitFor(
    async () => {
      await read();
      const before = await stats();
      await read();
      const after = await stats();
      return after.l1Hits === before.l1Hits + lookupsPerRead && after.l1Misses === before.l1Misses && after.loads === before.loads;
    },
    `${what} to be answered from L1`,
  );
}

export const PASSWORD = 'cache e2e user password';
export const ME = '{ me { id email role } }';
export const USERS = '{ users { id } }';
export const CREATE_USER = 'mutation($input: CreateUserInput!) { createUser(input: $input) { id email } }';
export const LOGIN = 'mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token sessionId } }';
export const REVOKE_SESSION = 'mutation($id: ID!) { revokeSession(id: $id) }';
export const SET_ROLE = 'mutation($id: ID!, $role: UserRole!) { updateUser(id: $id, input: { role: $role }) { id role } }';
export const GRANT = 'mutation($input: PermissionInput!) { grantPermission(input: $input) }';
export const REVOKE = 'mutation($input: PermissionInput!) { revokePermission(input: $input) }';

export interface Me {
  id: string;
  email: string;
  role: string;
}

/** Creates a user (through `server`, as its admin) with PASSWORD. */
export async function createUser(server: Instance, label: string): Promise<{ id: string; email: string }> {
  const email = `${label}-${randomBytes(4).toString('hex')}@cache-e2e.test`;
  return (await ok<{ createUser: { id: string; email: string } }>(server.gql(CREATE_USER, { input: { email, password: PASSWORD } }))).createUser;
}

/** Logs `email` in through `server` — pass an anonymous client (`as(undefined)`, `anonymous()`) to keep other sessions' counters still: the new session's token and id. */
export async function login(server: Instance, email: string): Promise<{ token: string; sessionId: string }> {
  return (await ok<{ login: { token: string; sessionId: string } }>(server.gql(LOGIN, { email, password: PASSWORD }))).login;
}

/** The code of the first error of an answer, or OK when it has none. */
export async function codeOf(response: Promise<GraphQLResponse>): Promise<string> {
  const { errors } = await response;
  return errors === undefined ? 'OK' : String(errors[0]?.extensions?.code);
}

/**
 * The Redis database each suite of this folder gives its servers. Servers
 * share the default key prefix, and a Redis outage makes them renew the
 * epoch of every namespace under it; on a database of their own, a suite's
 * outage never turns another suite's L2 hits into misses.
 */
export const REDIS_DATABASE = { twoInstances: 14, readsThroughCache: 15 } as const;
