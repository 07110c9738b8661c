import { resolveOutboxOptions } from './outbox-module.options';

describe('resolveOutboxOptions', () => {
  it('relays, in batches of 100, sweeping every second and keeping published rows 10 minutes', () => {
    expect(resolveOutboxOptions({})).toEqual({
      relayEnabled: true,
      batchSize: 100,
      sweepIntervalMs: 1000,
      retentionMs: 600_000,
      retryDelayMs: 500,
      maxRetryDelayMs: 30_000,
    });
  });

  it('takes what is given', () => {
    expect(resolveOutboxOptions({ relayEnabled: false, retentionMs: 5000 })).toMatchObject({ relayEnabled: false, retentionMs: 5000 });
  });

  it.each([['batchSize', 0], ['sweepIntervalMs', -1], ['retentionMs', Number.NaN]])('refuses %s = %p', (name, value) => {
    expect(() => resolveOutboxOptions({ [name]: value })).toThrow(`OutboxModule option ${name} must be a positive number`);
  });
});
