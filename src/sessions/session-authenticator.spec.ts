import { EntityTarget, FindOneOptions } from 'typeorm';
import { CacheService } from '../cache/cache.service';
import { resolveCacheOptions } from '../cache/cache.options';
import { UnitOfWork } from '../database/unit-of-work';
import { UserEntity } from '../users/user.entity';
import { UserRole } from '../users/user-role';
import { SessionAuthenticator } from './session-authenticator';
import { SessionCache, UNKNOWN_TOKEN_TTL_MS } from './session-cache';
import { SessionEntity } from './session.entity';
import { hashSessionToken, newSessionToken } from './session-token';

const USER_ID = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const SESSION_ID = '0b7f8a9e-3c1d-4e2f-9a8b-7c6d5e4f3a2b';
const L1_TTL_MS = 60_000;

/**
 * The database as the authenticator sees it: one sessions table and one users
 * table in memory, answering the two entity reads it makes, and counting them.
 */
class FakeDatabase {
  readonly sessions = new Map<string, SessionEntity>();
  readonly users = new Map<string, UserEntity>();
  readonly reads = { token: 0, session: 0, user: 0 };

  readonly unitOfWork = { read: <R>(work: (manager: unknown) => Promise<R>) => work(this) } as unknown as UnitOfWork;

  async findOne<T>(entity: EntityTarget<T>, { where }: FindOneOptions<T>): Promise<unknown> {
    const by = where as Record<string, unknown>;
    if (entity === UserEntity) {
      this.reads.user++;
      return this.users.get(by.id as string) ?? null;
    }
    if ('tokenHash' in by) {
      this.reads.token++;
      return [...this.sessions.values()].find((session) => session.tokenHash === by.tokenHash) ?? null;
    }
    // The open-and-unexpired conditions the real query expresses with IsNull() and MoreThan(now).
    this.reads.session++;
    const session = this.sessions.get(by.id as string);
    const open = session && session.userId === by.userId && session.endedAt === null && session.expiresAt.getTime() > Date.now();
    return open ? session : null;
  }
}

describe('SessionAuthenticator through the sessions cache (L1 only)', () => {
  let database: FakeDatabase;
  let cache: SessionCache;
  let authenticator: SessionAuthenticator;
  let token: string;

  beforeEach(() => {
    // Fake timers before the cache is built: its clock is Date.now, and so are the session's expiry checks.
    jest.useFakeTimers({ now: new Date('2026-03-01T12:00:00.000Z') });
    database = new FakeDatabase();
    const options = resolveCacheOptions(undefined, { defaults: { l1TtlMs: L1_TTL_MS } });
    cache = new SessionCache(new CacheService(options));
    authenticator = new SessionAuthenticator(database.unitOfWork, cache);
    token = newSessionToken();
    const now = Date.now();
    database.users.set(USER_ID, {
      id: USER_ID,
      email: 'alice@example.com',
      displayName: null,
      role: UserRole.USER,
      passwordHash: 'not used here',
      createdAt: new Date(now),
      updatedAt: new Date(now),
    });
    database.sessions.set(SESSION_ID, {
      id: SESSION_ID,
      userId: USER_ID,
      tokenHash: hashSessionToken(token),
      createdAt: new Date(now),
      expiresAt: new Date(now + 12 * 3_600_000),
      endedAt: null,
      endReason: null,
      endedBy: null,
      passwordStamp: null,
    });
  });

  afterEach(() => jest.useRealTimers());

  const principal = (overrides = {}) => ({ kind: 'user', userId: USER_ID, email: 'alice@example.com', isAdmin: false, sessionId: SESSION_ID, ...overrides });
  const endSession = () => (database.sessions.get(SESSION_ID)!.endedAt = new Date());

  it('reads the database on the first request only; later ones are answered from the cache', async () => {
    expect(await authenticator.authenticate(token)).toEqual(principal());
    expect(database.reads).toEqual({ token: 1, session: 1, user: 1 });
    for (let i = 0; i < 10; i++) expect(await authenticator.authenticateAuthorization(`Bearer ${token}`)).toEqual(principal());
    expect(database.reads).toEqual({ token: 1, session: 1, user: 1 });
  });

  it('refuses a malformed token without any lookup', async () => {
    expect(await authenticator.authenticate('not-a-token')).toBeNull();
    expect(database.reads).toEqual({ token: 0, session: 0, user: 0 });
  });

  it(`remembers an unknown token as unknown for ${UNKNOWN_TOKEN_TTL_MS} ms only`, async () => {
    const unknown = newSessionToken();
    expect(await authenticator.authenticate(unknown)).toBeNull();
    jest.advanceTimersByTime(UNKNOWN_TOKEN_TTL_MS - 1);
    expect(await authenticator.authenticate(unknown)).toBeNull();
    expect(database.reads.token).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await authenticator.authenticate(unknown)).toBeNull();
    expect(database.reads.token).toBe(2);
  });

  it('serves a session until its expiry and not a millisecond longer, with nothing dropping it', async () => {
    database.sessions.get(SESSION_ID)!.expiresAt = new Date(Date.now() + 30_000); // sooner than the L1 TTL
    expect(await authenticator.authenticate(token)).toEqual(principal());
    jest.advanceTimersByTime(29_999);
    expect(await authenticator.authenticate(token)).toEqual(principal());
    expect(database.reads.session).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await authenticator.authenticate(token)).toBeNull();
  });

  it('refuses an ended session once its entry is dropped (what the writer and session.revoked do), and keeps refusing it', async () => {
    expect(await authenticator.authenticate(token)).toEqual(principal());
    endSession();
    // The cached state is what answers until someone drops it: the reason every end of a session must.
    expect(await authenticator.authenticate(token)).toEqual(principal());

    await cache.dropSession(USER_ID, SESSION_ID);

    expect(await authenticator.authenticate(token)).toBeNull();
    expect(await authenticator.authenticate(token)).toBeNull();
    expect(database.reads).toEqual({ token: 1, session: 2, user: 1 }); // the "ended" answer is cached too; the token was never read again
  });

  it("applies a change of the user's role once their sessions are dropped (user.updated)", async () => {
    expect(await authenticator.authenticate(token)).toEqual(principal());
    database.users.get(USER_ID)!.role = UserRole.ADMIN;
    expect(await authenticator.authenticate(token)).toEqual(principal());

    await cache.dropSessionsOfUser(USER_ID);

    expect(await authenticator.authenticate(token)).toEqual(principal({ isAdmin: true }));
    expect(database.reads).toEqual({ token: 1, session: 2, user: 2 });
  });

  it("refuses a deleted user's session once their sessions are dropped (user.deleted)", async () => {
    expect(await authenticator.authenticate(token)).toEqual(principal());
    database.users.delete(USER_ID);
    await cache.dropSessionsOfUser(USER_ID);
    expect(await authenticator.authenticate(token)).toBeNull();
  });

  it("drops only that user's sessions", async () => {
    expect(await authenticator.authenticate(token)).toEqual(principal());
    await cache.dropSessionsOfUser('00000000-0000-4000-8000-000000000000');
    await cache.dropSession(USER_ID, '00000000-0000-4000-8000-000000000001');
    expect(await authenticator.authenticate(token)).toEqual(principal());
    expect(database.reads).toEqual({ token: 1, session: 1, user: 1 });
  });

  it('lets 100 concurrent requests with a new token make one load', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => authenticator.authenticate(token)));
    expect(answers.every((answer) => answer?.sessionId === SESSION_ID)).toBe(true);
    expect(database.reads).toEqual({ token: 1, session: 1, user: 1 });
  });
});
