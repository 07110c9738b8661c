import { Logger } from '@nestjs/common';
import { EventBus } from '../event-bus/event-bus';
import { CacheReconnectFlusher } from './cache-reconnect.flusher';
import { CacheService } from './cache.service';

describe('CacheReconnectFlusher', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  function setUp(flushL1: () => void = () => {}) {
    const listeners = new Set<() => void>();
    const bus = { onReconnect: (listener: () => void) => (listeners.add(listener), () => listeners.delete(listener)) } as unknown as EventBus;
    const cache = { flushL1: jest.fn(flushL1) };
    const flusher = new CacheReconnectFlusher(bus, cache as unknown as CacheService);
    const reconnect = () => listeners.forEach((listener) => listener());
    return { flusher, cache, listeners, reconnect };
  }

  it('empties L1 each time the bus reconnects, and counts it', () => {
    const { flusher, cache, reconnect } = setUp();
    flusher.onApplicationBootstrap();
    expect(cache.flushL1).not.toHaveBeenCalled();

    reconnect();
    reconnect();

    expect(cache.flushL1).toHaveBeenCalledTimes(2);
    expect(flusher.l1FlushesAfterReconnect).toBe(2);
  });

  it('stops listening on shutdown', () => {
    const { flusher, cache, listeners, reconnect } = setUp();
    flusher.onApplicationBootstrap();
    flusher.onApplicationShutdown();
    reconnect();
    expect(listeners.size).toBe(0);
    expect(cache.flushL1).not.toHaveBeenCalled();
  });

  it('never throws into the transport', () => {
    const { flusher, reconnect } = setUp(() => {
      throw new Error('boom');
    });
    flusher.onApplicationBootstrap();
    expect(() => reconnect()).not.toThrow();
    expect(flusher.l1FlushesAfterReconnect).toBe(0);
    expect(Logger.prototype.error).toHaveBeenCalledWith(expect.stringContaining('boom'));
  });
});
