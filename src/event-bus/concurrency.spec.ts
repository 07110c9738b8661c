import { delay, KeyedSerializer, Semaphore, withTimeout } from './concurrency';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (one macrotask turn drains the microtask queue). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled yet, without ever leaving a rejection unhandled. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('Semaphore', () => {
  it('runs up to `limit` tasks at once and never more', async () => {
    const semaphore = new Semaphore(2);
    const gates = Array.from({ length: 6 }, () => deferred());
    let running = 0;
    let maxRunning = 0;
    const started: number[] = [];
    const results = gates.map((gate, i) =>
      semaphore.run(async () => {
        started.push(i);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await gate.promise;
        running--;
        return i;
      }),
    );

    await settle();
    expect(started).toEqual([0, 1]);

    for (let i = 0; i < gates.length; i++) {
      gates[i].resolve();
      await settle();
      expect(running).toBeLessThanOrEqual(2);
    }
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2, 3, 4, 5]);
    expect(maxRunning).toBe(2);
  });

  it('serves waiters first come, first served, whichever running task frees the permit', async () => {
    const semaphore = new Semaphore(2);
    const gates = Array.from({ length: 6 }, () => deferred());
    const started: number[] = [];
    const results = gates.map((gate, i) =>
      semaphore.run(async () => {
        started.push(i);
        await gate.promise;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);

    // Finish the running tasks newest first: the waiters must still start in arrival order.
    for (const [finish, expected] of [
      [1, [0, 1, 2]],
      [2, [0, 1, 2, 3]],
      [0, [0, 1, 2, 3, 4]],
      [4, [0, 1, 2, 3, 4, 5]],
    ] as const) {
      gates[finish].resolve();
      await settle();
      expect(started).toEqual(expected);
    }
    gates[3].resolve();
    gates[5].resolve();
    await Promise.all(results);
  });

  it('hands the permit on when a task rejects, and passes the rejection to its caller', async () => {
    const semaphore = new Semaphore(1);
    const failure = new Error('boom');
    const first = semaphore.run(async () => {
      throw failure;
    });
    const second = semaphore.run(async () => 'ran');
    await expect(first).rejects.toBe(failure);
    await expect(second).resolves.toBe('ran');
  });

  it('releases the permit when a task throws synchronously', async () => {
    const semaphore = new Semaphore(1);
    const first = semaphore.run((() => {
      throw new Error('sync');
    }) as () => Promise<never>);
    await expect(first).rejects.toThrow('sync');
    await expect(semaphore.run(async () => 42)).resolves.toBe(42);
  });

  it('gives back every permit once idle, so `limit` tasks can start again at once', async () => {
    const semaphore = new Semaphore(3);
    await Promise.all([1, 2, 3, 4, 5].map((i) => semaphore.run(async () => i)));

    const gates = [deferred(), deferred(), deferred(), deferred()];
    let started = 0;
    const runs = gates.map((gate) =>
      semaphore.run(async () => {
        started++;
        await gate.promise;
      }),
    );
    await settle();
    expect(started).toBe(3);
    gates.forEach((gate) => gate.resolve());
    await Promise.all(runs);
    expect(started).toBe(4);
  });
});

describe('KeyedSerializer', () => {
  it('runs tasks with the same key one at a time, in the order given', async () => {
    const serializer = new KeyedSerializer();
    const gates = [deferred(), deferred(), deferred()];
    const events: string[] = [];
    const results = gates.map((gate, i) =>
      serializer.run('order-1', async () => {
        events.push(`start ${i}`);
        await gate.promise;
        events.push(`end ${i}`);
        return i;
      }),
    );

    await settle();
    expect(events).toEqual(['start 0']);
    gates[1].resolve(); // finishing early must not let task 1 overtake task 0
    await settle();
    expect(events).toEqual(['start 0']);
    gates[0].resolve();
    await settle();
    expect(events).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2']);
    gates[2].resolve();
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2]);
    expect(events).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('runs tasks with different keys side by side', async () => {
    const serializer = new KeyedSerializer();
    const a = deferred();
    const b = deferred();
    const started: string[] = [];
    const runA = serializer.run('a', async () => {
      started.push('a');
      await a.promise;
    });
    const runB = serializer.run('b', async () => {
      started.push('b');
      await b.promise;
    });
    await settle();
    expect(started).toEqual(['a', 'b']);
    expect(serializer.activeKeys).toBe(2);
    b.resolve();
    await runB; // b finishes while a is still running
    a.resolve();
    await runA;
  });

  it('continues with the next task after one rejects, and rejects only that caller', async () => {
    const serializer = new KeyedSerializer();
    const failure = new Error('handler failed');
    const first = serializer.run('k', async () => {
      throw failure;
    });
    const second = serializer.run('k', async () => 'second');
    const third = serializer.run('k', () => Promise.reject(new Error('third failed')));
    const fourth = serializer.run('k', async () => 'fourth');
    await expect(first).rejects.toBe(failure);
    await expect(second).resolves.toBe('second');
    await expect(third).rejects.toThrow('third failed');
    await expect(fourth).resolves.toBe('fourth');
  });

  it('continues after a task that throws synchronously', async () => {
    const serializer = new KeyedSerializer();
    const first = serializer.run('k', (() => {
      throw new Error('sync');
    }) as () => Promise<never>);
    await expect(first).rejects.toThrow('sync');
    await expect(serializer.run('k', async () => 'next')).resolves.toBe('next');
  });

  it('forgets a key once its last task is done', async () => {
    const serializer = new KeyedSerializer();
    expect(serializer.activeKeys).toBe(0);
    const gate = deferred();
    const first = serializer.run('k', () => gate.promise);
    const second = serializer.run('k', async () => undefined);
    expect(serializer.activeKeys).toBe(1);

    gate.resolve();
    await Promise.all([first, second]);
    await settle();
    expect(serializer.activeKeys).toBe(0);
  });

  it('forgets keys whose last task rejected', async () => {
    const serializer = new KeyedSerializer();
    await expect(serializer.run('a', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await serializer.run('b', async () => undefined);
    await settle();
    expect(serializer.activeKeys).toBe(0);
  });

  it('keeps a key while a later task for it is still pending', async () => {
    const serializer = new KeyedSerializer();
    const gate = deferred();
    await serializer.run('k', async () => undefined);
    const pending = serializer.run('k', () => gate.promise);
    await settle();
    expect(serializer.activeKeys).toBe(1);
    gate.resolve();
    await pending;
    await settle();
    expect(serializer.activeKeys).toBe(0);
  });

  it('serves a forgotten key again, in order', async () => {
    const serializer = new KeyedSerializer();
    await serializer.run('k', async () => undefined);
    await settle();
    expect(serializer.activeKeys).toBe(0);
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => serializer.run('k', async () => void order.push(i))));
    expect(order).toEqual([1, 2, 3]);
  });
});

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves with the value when the promise settles in time, and clears its timer', async () => {
    const onTimeout = jest.fn(() => new Error('too slow'));
    const source = deferred<string>();
    const result = track(withTimeout(source.promise, 1000, onTimeout));
    expect(jest.getTimerCount()).toBe(1);

    await jest.advanceTimersByTimeAsync(999);
    expect(result.settled).toBe(false);
    source.resolve('done');
    await jest.advanceTimersByTimeAsync(0);

    expect(result).toEqual({ settled: true, value: 'done' });
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(5000);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it('rejects with the error from onTimeout once `ms` have passed', async () => {
    const error = new Error('handler timed out after 1000 ms');
    const result = track(withTimeout(new Promise<never>(() => undefined), 1000, () => error));

    await jest.advanceTimersByTimeAsync(999);
    expect(result.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(result.settled).toBe(true);
    expect(result.error).toBe(error);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('passes on the rejection of the promise and clears its timer', async () => {
    const onTimeout = jest.fn(() => new Error('too slow'));
    const failure = new Error('handler failed');
    await expect(withTimeout(Promise.reject(failure), 1000, onTimeout)).rejects.toBe(failure);
    expect(jest.getTimerCount()).toBe(0);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it('ignores the promise settling after the timeout', async () => {
    const source = deferred<string>();
    const result = track(withTimeout(source.promise, 10, () => new Error('late')));
    await jest.advanceTimersByTimeAsync(10);
    source.resolve('too late');
    await jest.advanceTimersByTimeAsync(0);
    expect(result.error).toEqual(new Error('late'));
    expect(result.value).toBeUndefined();
  });
});

describe('delay', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves after `ms` and not before', async () => {
    const done = track(delay(500));
    await jest.advanceTimersByTimeAsync(499);
    expect(done.settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(done.settled).toBe(true);
  });

  it('resolves early when the signal aborts, and clears its timer', async () => {
    const controller = new AbortController();
    const done = track(delay(60_000, controller.signal));
    await jest.advanceTimersByTimeAsync(10);
    expect(done.settled).toBe(false);
    expect(jest.getTimerCount()).toBe(1);

    controller.abort();
    await jest.advanceTimersByTimeAsync(0);
    expect(done.settled).toBe(true);
    expect(done.error).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('resolves at once, without a timer, when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const done = track(delay(60_000, controller.signal));
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(0);
    expect(done.settled).toBe(true);
  });

  it('stops listening to the signal once the time has passed', async () => {
    const controller = new AbortController();
    const add = jest.spyOn(controller.signal, 'addEventListener');
    const remove = jest.spyOn(controller.signal, 'removeEventListener');
    const done = track(delay(100, controller.signal));
    await jest.advanceTimersByTimeAsync(100);
    expect(done.settled).toBe(true);
    expect(add).toHaveBeenCalledWith('abort', expect.any(Function), { once: true });
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0][1]);
    expect(() => controller.abort()).not.toThrow();
  });
});
