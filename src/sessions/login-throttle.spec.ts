import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, LoginThrottledError, LoginThrottleOptions } from './login-throttle';

const OPTIONS: LoginThrottleOptions = {
  maxFailuresPerAccount: 5,
  maxFailuresPerAddress: 8,
  windowMs: 60_000,
  lockoutMs: 30_000,
  maxTrackedKeys: 100,
};

describe('LoginThrottle', () => {
  let clock: number;
  let throttle: LoginThrottle;
  const fail = (account: string, address = '10.0.0.1') => void throttle.begin(account, address);
  const refusal = (account: string, address = '10.0.0.1'): LoginThrottledError | undefined => {
    try {
      throttle.begin(account, address).succeeded();
      return undefined;
    } catch (error) {
      if (error instanceof LoginThrottledError) return error;
      throw error;
    }
  };

  beforeEach(() => {
    clock = 1_000_000;
    throttle = new LoginThrottle(OPTIONS, () => clock);
  });

  it('defaults to 5 failures per account, 20 per address, 15 minutes, 10,000 keys', () => {
    expect(DEFAULT_LOGIN_THROTTLE).toEqual({
      maxFailuresPerAccount: 5,
      maxFailuresPerAddress: 20,
      windowMs: 900_000,
      lockoutMs: 900_000,
      maxTrackedKeys: 10_000,
    });
  });

  it('allows 5 failures for an account, then refuses it, with the time left', () => {
    for (let i = 0; i < 5; i++) fail('alice@example.com');
    clock += 10_000;
    const error = refusal('alice@example.com');
    expect(error).toBeInstanceOf(LoginThrottledError);
    expect(error!.code).toBe('UNAUTHENTICATED');
    expect(error!.retryAfterSeconds).toBe(20);
    expect(error!.message).toBe('Too many failed login attempts; try again in 20 seconds');
    expect(error!.details).toEqual({ retryAfterSeconds: 20 });
  });

  it('refuses even the right password while locked, and lets the account in again after the lockout', () => {
    for (let i = 0; i < 5; i++) fail('alice@example.com');
    expect(refusal('alice@example.com')).toBeDefined();
    clock += 30_000;
    expect(refusal('alice@example.com')).toBeUndefined();
  });

  it('keeps accounts apart', () => {
    for (let i = 0; i < 5; i++) fail('alice@example.com', `10.0.0.${i}`);
    expect(refusal('bob@example.com', '10.0.1.1')).toBeUndefined();
  });

  it('forgets an account’s failures after a success', () => {
    for (let i = 0; i < 4; i++) fail('alice@example.com', `10.0.0.${i}`);
    expect(refusal('alice@example.com', '10.0.0.9')).toBeUndefined();
    for (let i = 0; i < 4; i++) fail('alice@example.com', `10.0.2.${i}`);
    expect(refusal('alice@example.com', '10.0.3.1')).toBeUndefined();
  });

  it('starts a new window once the old one has passed without a lockout', () => {
    for (let i = 0; i < 4; i++) fail('alice@example.com', `10.0.0.${i}`);
    clock += 60_000;
    for (let i = 0; i < 4; i++) fail('alice@example.com', `10.0.1.${i}`);
    expect(refusal('alice@example.com', '10.0.2.1')).toBeUndefined();
  });

  it('refuses an address after its own limit, across many accounts, while other addresses go on', () => {
    for (let i = 0; i < 8; i++) fail(`user${i}@example.com`, '10.9.9.9');
    expect(refusal('fresh@example.com', '10.9.9.9')).toBeInstanceOf(LoginThrottledError);
    expect(refusal('fresh@example.com', '10.9.9.10')).toBeUndefined();
  });

  it('does not let one valid account reset a spraying address', () => {
    for (let i = 0; i < 7; i++) fail(`user${i}@example.com`, '10.9.9.9');
    expect(refusal('mine@example.com', '10.9.9.9')).toBeUndefined();
    fail('user7@example.com', '10.9.9.9');
    expect(refusal('user8@example.com', '10.9.9.9')).toBeInstanceOf(LoginThrottledError);
  });

  it('counts attempts still in progress, so concurrent guesses cannot overtake the check', () => {
    const inFlight = Array.from({ length: 5 }, () => throttle.begin('alice@example.com', '10.0.0.1'));
    expect(refusal('alice@example.com', '10.0.0.2')).toBeInstanceOf(LoginThrottledError);
    inFlight[0].succeeded();
    expect(refusal('alice@example.com', '10.0.0.2')).toBeUndefined();
  });

  it('counts a success once, however often it is reported', () => {
    for (let i = 0; i < 7; i++) fail(`user${i}@example.com`, '10.9.9.9');
    const attempt = throttle.begin('mine@example.com', '10.9.9.9');
    attempt.succeeded();
    attempt.succeeded();
    fail('user7@example.com', '10.9.9.9');
    expect(refusal('user8@example.com', '10.9.9.9')).toBeInstanceOf(LoginThrottledError);
  });

  it('tracks at most maxTrackedKeys accounts and addresses, forgetting the least recently seen', () => {
    for (let i = 0; i < 1000; i++) fail(`user${i}@example.com`, `10.1.${Math.floor(i / 250)}.${i % 250}`);
    expect(throttle.trackedKeys).toEqual({ accounts: 100, addresses: 100 });
  });
});
