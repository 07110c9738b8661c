import { BrokerConsumer, BrokerMessage, InMemoryBroker, QueueFullError } from './in-memory-broker';

const EXCHANGE = 'appserver.events';

/** Polls `predicate` on every event-loop turn until it holds; fails after a deadline instead of hanging. */
async function waitFor(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Lets the broker finish any delivery it has scheduled. Deliveries run in
 * setImmediate callbacks, each of which may schedule one more, so a few turns
 * are enough to observe that nothing further arrives.
 */
async function quiesce(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const text = (message: BrokerMessage) => message.body.toString();

/** A consumer that records every delivery and never acks on its own. */
function recordingConsumer(broker: InMemoryBroker, queue: string, prefetch: number) {
  const received: BrokerMessage[] = [];
  let maxUnacked = 0;
  const consumer = broker.consume(queue, prefetch, (message, self) => {
    received.push(message);
    maxUnacked = Math.max(maxUnacked, self.unacked.size);
  });
  return {
    consumer,
    received,
    bodies: () => received.map(text),
    get maxUnacked() {
      return maxUnacked;
    },
  };
}

function publishAll(broker: InMemoryBroker, routingKey: string, bodies: string[]): void {
  for (const body of bodies) broker.publish(EXCHANGE, routingKey, Buffer.from(body));
}

describe('InMemoryBroker', () => {
  let broker: InMemoryBroker;
  beforeEach(() => {
    broker = new InMemoryBroker();
  });
  afterEach(() => broker.dispose());

  describe('topic routing', () => {
    beforeEach(() => {
      broker.assertQueue('apps');
      broker.assertQueue('created');
      broker.assertQueue('everything');
      broker.bindQueue(EXCHANGE, 'apps', 'app.*');
      broker.bindQueue(EXCHANGE, 'created', '*.created');
      broker.bindQueue(EXCHANGE, 'everything', '#');
    });

    it.each([
      ['app.installed', ['apps', 'everything']],
      ['user.created', ['created', 'everything']],
      ['session.revoked', ['everything']],
      ['app.installed.extra', ['everything']],
    ])('routes "%s" to %j only', (routingKey, expected) => {
      broker.publish(EXCHANGE, routingKey, Buffer.from('x'));
      const depths = Object.fromEntries(['apps', 'created', 'everything'].map((q) => [q, broker.depth(q)]));
      expect(depths).toEqual({
        apps: expected.includes('apps') ? 1 : 0,
        created: expected.includes('created') ? 1 : 0,
        everything: 1,
      });
    });

    it('puts one copy in a queue even when two of its bindings match', () => {
      broker.assertQueue('double');
      broker.bindQueue(EXCHANGE, 'double', 'app.*');
      broker.bindQueue(EXCHANGE, 'double', 'app.#');
      broker.bindQueue(EXCHANGE, 'double', 'app.installed');
      broker.publish(EXCHANGE, 'app.installed', Buffer.from('once'));
      expect(broker.depth('double')).toBe(1);
    });

    it('ignores a binding declared twice', () => {
      broker.bindQueue(EXCHANGE, 'apps', 'app.*');
      broker.publish(EXCHANGE, 'app.registered', Buffer.from('x'));
      expect(broker.depth('apps')).toBe(1);
    });

    it('drops a message no binding matches, as a topic exchange does', () => {
      expect(() => broker.publish('another.exchange', 'app.installed', Buffer.from('x'))).not.toThrow();
      expect(['apps', 'created', 'everything'].map((q) => broker.depth(q))).toEqual([0, 0, 0]);
    });

    it('keeps exchanges apart', () => {
      broker.assertQueue('other');
      broker.bindQueue('other.exchange', 'other', '#');
      broker.publish(EXCHANGE, 'app.installed', Buffer.from('x'));
      expect(broker.depth('other')).toBe(0);
      broker.publish('other.exchange', 'app.installed', Buffer.from('y'));
      expect(broker.depth('other')).toBe(1);
      expect(broker.depth('apps')).toBe(1);
    });

    it('stores the body, routing key and headers, not yet redelivered', () => {
      broker.publish(EXCHANGE, 'app.installed', Buffer.from('payload'), { 'x-attempts': 2 });
      broker.publish(EXCHANGE, 'app.registered', Buffer.from('no headers'));
      const [withHeaders, withoutHeaders] = broker.peek('apps', 10);
      expect(withHeaders).toEqual({ body: Buffer.from('payload'), routingKey: 'app.installed', headers: { 'x-attempts': 2 }, redelivered: false });
      expect(withoutHeaders.headers).toEqual({});
    });

    it('refuses to bind a queue that does not exist', () => {
      expect(() => broker.bindQueue(EXCHANGE, 'missing', '#')).toThrow('In-memory queue "missing" does not exist');
    });

    it('refuses an invalid pattern', () => {
      expect(() => broker.bindQueue(EXCHANGE, 'apps', 'app..x')).toThrow(/Invalid topic pattern/);
    });

    it('keeps the messages of a queue asserted again', () => {
      broker.publish(EXCHANGE, 'app.installed', Buffer.from('x'));
      broker.assertQueue('apps');
      expect(broker.depth('apps')).toBe(1);
    });

    it('removes the bindings of a deleted queue', () => {
      broker.publish(EXCHANGE, 'app.installed', Buffer.from('before'));
      broker.deleteQueue('apps');
      expect(broker.depth('apps')).toBe(0);
      broker.publish(EXCHANGE, 'app.installed', Buffer.from('after'));
      broker.assertQueue('apps');
      expect(broker.depth('apps')).toBe(0);
      expect(broker.depth('everything')).toBe(2);
    });

    it('ignores deleting a queue that does not exist', () => {
      expect(() => broker.deleteQueue('missing')).not.toThrow();
    });
  });

  describe('sendToQueue', () => {
    it('puts the message straight into the queue as given, bypassing bindings', () => {
      broker.assertQueue('direct');
      const message: BrokerMessage = { body: Buffer.from('m'), routingKey: 'app.installed', headers: { h: 1 }, redelivered: false };
      broker.sendToQueue('direct', message);
      expect(broker.peek('direct', 1)).toEqual([message]);
    });

    it('refuses a queue that does not exist', () => {
      expect(() => broker.sendToQueue('missing', { body: Buffer.from(''), routingKey: 'k', headers: {}, redelivered: false })).toThrow(
        'In-memory queue "missing" does not exist',
      );
    });
  });

  describe('delivery', () => {
    beforeEach(() => {
      broker.assertQueue('work');
      broker.bindQueue(EXCHANGE, 'work', '#');
    });

    it('delivers on a later turn, never inside publish', async () => {
      const { received } = recordingConsumer(broker, 'work', 10);
      broker.publish(EXCHANGE, 'app.installed', Buffer.from('m'));
      expect(received).toHaveLength(0);
      await waitFor(() => received.length === 1, 'the delivery');
      expect(broker.depth('work')).toBe(0);
    });

    it('delivers in publish order to a single consumer', async () => {
      const c = recordingConsumer(broker, 'work', 100);
      publishAll(broker, 'app.installed', ['1', '2', '3', '4', '5']);
      await waitFor(() => c.received.length === 5, 'five deliveries');
      expect(c.bodies()).toEqual(['1', '2', '3', '4', '5']);
    });

    it('delivers messages that were waiting before the consumer came', async () => {
      publishAll(broker, 'app.installed', ['a', 'b']);
      const c = recordingConsumer(broker, 'work', 10);
      await waitFor(() => c.received.length === 2, 'the waiting messages');
      expect(c.bodies()).toEqual(['a', 'b']);
    });

    it('passes the consumer to the listener, which can ack through it', async () => {
      let seen: BrokerConsumer | undefined;
      const consumer = broker.consume('work', 1, (message, self) => {
        seen = self;
        self.ack(message);
      });
      publishAll(broker, 'k', ['1', '2', '3']);
      await waitFor(() => broker.depth('work') === 0 && consumer.unacked.size === 0, 'all three acked');
      expect(seen).toBe(consumer);
    });

    it('does not recurse into delivery when a listener publishes', async () => {
      let inListener = false;
      let nested = false;
      const bodies: string[] = [];
      broker.consume('work', 10, (message, self) => {
        if (inListener) nested = true;
        inListener = true;
        bodies.push(text(message));
        if (text(message) === 'first') broker.publish(EXCHANGE, 'k', Buffer.from('second'));
        self.ack(message);
        inListener = false;
      });
      broker.publish(EXCHANGE, 'k', Buffer.from('first'));
      await waitFor(() => bodies.length === 2, 'the message published by the listener');
      expect(nested).toBe(false);
      expect(bodies).toEqual(['first', 'second']);
    });
  });

  describe('competing consumers', () => {
    beforeEach(() => {
      broker.assertQueue('group');
      broker.bindQueue(EXCHANGE, 'group', 'app.#');
    });

    it('round-robins between consumers with credit', async () => {
      const a = recordingConsumer(broker, 'group', 10);
      const b = recordingConsumer(broker, 'group', 10);
      publishAll(broker, 'app.installed', ['0', '1', '2', '3', '4', '5']);
      await waitFor(() => a.received.length + b.received.length === 6, 'six deliveries');
      expect(a.bodies()).toEqual(['0', '2', '4']);
      expect(b.bodies()).toEqual(['1', '3', '5']);
    });

    it('delivers each message to exactly one consumer', async () => {
      const bodies = Array.from({ length: 30 }, (_, i) => String(i));
      const all: string[] = [];
      const consumers = [0, 1, 2].map(() =>
        broker.consume('group', 3, (message, self) => {
          all.push(text(message));
          setImmediate(() => self.ack(message));
        }),
      );
      publishAll(broker, 'app.x', bodies);
      await waitFor(() => all.length === 30 && consumers.every((c) => c.unacked.size === 0), 'thirty acked deliveries');
      await quiesce();
      expect(all).toHaveLength(30);
      expect([...all].sort((x, y) => Number(x) - Number(y))).toEqual(bodies);
    });

    it('skips a consumer without credit and gives its turn to the next', async () => {
      const small = recordingConsumer(broker, 'group', 1);
      const large = recordingConsumer(broker, 'group', 3);
      publishAll(broker, 'app.installed', ['0', '1', '2', '3', '4', '5']);
      await waitFor(() => small.received.length + large.received.length === 4, 'four deliveries');
      await quiesce();
      expect(small.bodies()).toEqual(['0']);
      expect(large.bodies()).toEqual(['1', '2', '3']);
      expect(broker.depth('group')).toBe(2);
    });
  });

  describe('prefetch and acknowledgements', () => {
    beforeEach(() => {
      broker.assertQueue('q');
      broker.bindQueue(EXCHANGE, 'q', '#');
    });

    it('never gives a consumer more unacked messages than its prefetch', async () => {
      const c = recordingConsumer(broker, 'q', 2);
      publishAll(broker, 'k', ['1', '2', '3', '4', '5']);
      await waitFor(() => c.received.length === 2, 'two deliveries');
      await quiesce();
      expect(c.received).toHaveLength(2);
      expect(c.consumer.unacked.size).toBe(2);
      expect(c.maxUnacked).toBe(2);
      expect(broker.depth('q')).toBe(3);
    });

    it('delivers one more message for each ack', async () => {
      const c = recordingConsumer(broker, 'q', 2);
      publishAll(broker, 'k', ['1', '2', '3', '4', '5']);
      await waitFor(() => c.received.length === 2, 'two deliveries');

      expect(c.consumer.ack(c.received[0])).toBe(true);
      await waitFor(() => c.received.length === 3, 'a third delivery');
      await quiesce();
      expect(c.received).toHaveLength(3);
      expect(c.bodies()).toEqual(['1', '2', '3']);

      c.consumer.ack(c.received[1]);
      c.consumer.ack(c.received[2]);
      await waitFor(() => c.received.length === 5, 'the last two deliveries');
      expect(c.maxUnacked).toBe(2);
      expect(broker.depth('q')).toBe(0);
    });

    it('keeps the limit while a listener acks synchronously', async () => {
      let maxUnacked = 0;
      let count = 0;
      broker.consume('q', 3, (message, self) => {
        count++;
        maxUnacked = Math.max(maxUnacked, self.unacked.size);
        self.ack(message);
      });
      publishAll(broker, 'k', Array.from({ length: 50 }, (_, i) => String(i)));
      await waitFor(() => count === 50, 'fifty deliveries');
      expect(maxUnacked).toBeLessThanOrEqual(3);
    });

    it('returns false when the same message is acked twice, or a message it never delivered', async () => {
      const c = recordingConsumer(broker, 'q', 1);
      publishAll(broker, 'k', ['1']);
      await waitFor(() => c.received.length === 1, 'one delivery');
      expect(c.consumer.ack(c.received[0])).toBe(true);
      expect(c.consumer.ack(c.received[0])).toBe(false);
      expect(c.consumer.ack({ body: Buffer.from('1'), routingKey: 'k', headers: {}, redelivered: false })).toBe(false);
    });
  });

  describe('requeueUnacked', () => {
    beforeEach(() => {
      broker.assertQueue('q');
      broker.bindQueue(EXCHANGE, 'q', '#');
    });

    it('puts unacked messages back at the head of the queue, in order, marked redelivered', async () => {
      const c = recordingConsumer(broker, 'q', 2);
      publishAll(broker, 'k', ['1', '2', '3', '4']);
      await waitFor(() => c.received.length === 2, 'two deliveries');

      broker.cancel(c.consumer);
      broker.requeueUnacked(c.consumer);

      expect(c.consumer.unacked.size).toBe(0);
      expect(broker.peek('q', 10).map((m) => [text(m), m.redelivered])).toEqual([
        ['1', true],
        ['2', true],
        ['3', false],
        ['4', false],
      ]);
    });

    it('redelivers the requeued messages first to the next consumer', async () => {
      const first = recordingConsumer(broker, 'q', 2);
      publishAll(broker, 'k', ['1', '2', '3']);
      await waitFor(() => first.received.length === 2, 'two deliveries');
      broker.cancel(first.consumer);
      broker.requeueUnacked(first.consumer);

      const second = recordingConsumer(broker, 'q', 10);
      await waitFor(() => second.received.length === 3, 'three redeliveries');
      expect(second.received.map((m) => [text(m), m.redelivered])).toEqual([
        ['1', true],
        ['2', true],
        ['3', false],
      ]);
      expect(first.received).toHaveLength(2);
    });

    it('keeps only the messages still unacked', async () => {
      const c = recordingConsumer(broker, 'q', 3);
      publishAll(broker, 'k', ['1', '2', '3']);
      await waitFor(() => c.received.length === 3, 'three deliveries');
      c.consumer.ack(c.received[1]);
      broker.cancel(c.consumer);
      broker.requeueUnacked(c.consumer);
      expect(broker.peek('q', 10).map(text)).toEqual(['1', '3']);
    });

    it('makes a later ack of a requeued delivery a no-op', async () => {
      const c = recordingConsumer(broker, 'q', 1);
      publishAll(broker, 'k', ['1']);
      await waitFor(() => c.received.length === 1, 'one delivery');
      broker.cancel(c.consumer);
      broker.requeueUnacked(c.consumer);
      expect(c.consumer.ack(c.received[0])).toBe(false);
      expect(broker.depth('q')).toBe(1);
    });

    it('redelivers to the same consumer when it is still active', async () => {
      const c = recordingConsumer(broker, 'q', 1);
      publishAll(broker, 'k', ['1']);
      await waitFor(() => c.received.length === 1, 'one delivery');
      broker.requeueUnacked(c.consumer);
      await waitFor(() => c.received.length === 2, 'the redelivery');
      expect(c.received.map((m) => [text(m), m.redelivered])).toEqual([
        ['1', false],
        ['1', true],
      ]);
    });
  });

  describe('cancel', () => {
    beforeEach(() => {
      broker.assertQueue('q');
      broker.bindQueue(EXCHANGE, 'q', '#');
    });

    it('stops deliveries to the consumer; the messages wait in the queue', async () => {
      const c = recordingConsumer(broker, 'q', 10);
      broker.cancel(c.consumer);
      expect(c.consumer.active).toBe(false);
      publishAll(broker, 'k', ['1', '2']);
      await quiesce();
      expect(c.received).toHaveLength(0);
      expect(broker.depth('q')).toBe(2);
    });

    it('leaves deliveries in flight with the consumer, so they can still be acked (graceful stop)', async () => {
      const c = recordingConsumer(broker, 'q', 10);
      publishAll(broker, 'k', ['1']);
      await waitFor(() => c.received.length === 1, 'one delivery');
      broker.cancel(c.consumer);
      expect(c.consumer.unacked.size).toBe(1);
      expect(c.consumer.ack(c.received[0])).toBe(true);
      expect(broker.depth('q')).toBe(0);
    });

    it('hands the remaining messages to the other consumers', async () => {
      const a = recordingConsumer(broker, 'q', 1);
      const b = recordingConsumer(broker, 'q', 10);
      broker.cancel(a.consumer);
      publishAll(broker, 'k', ['1', '2', '3']);
      await waitFor(() => b.received.length === 3, 'three deliveries to the remaining consumer');
      expect(a.received).toHaveLength(0);
    });
  });

  describe('bounded queues', () => {
    const direct = (body: string): BrokerMessage => ({ body: Buffer.from(body), routingKey: 'k', headers: {}, redelivered: false });

    beforeEach(() => {
      broker = new InMemoryBroker(2);
      // 'other' is bound first, so a publish that enqueued queue by queue would reach it before finding 'small' full.
      broker.assertQueue('other');
      broker.assertQueue('small');
      broker.bindQueue(EXCHANGE, 'other', '#');
      broker.bindQueue(EXCHANGE, 'small', 'app.*');
    });

    it('refuses a publish to a full queue with QueueFullError naming the queue and its bound', () => {
      broker.sendToQueue('small', direct('1'));
      broker.sendToQueue('small', direct('2'));
      let thrown: unknown;
      try {
        broker.publish(EXCHANGE, 'app.c', Buffer.from('3'));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(QueueFullError);
      expect((thrown as Error).name).toBe('QueueFullError');
      expect((thrown as Error).message).toBe('In-memory queue "small" is full (2 messages): the publish was refused');
      expect(broker.peek('small', 10).map(text)).toEqual(['1', '2']);
    });

    it('refuses the whole publish, so no other queue gets a copy when one is full', () => {
      broker.sendToQueue('small', direct('1'));
      broker.sendToQueue('small', direct('2'));
      expect(() => broker.publish(EXCHANGE, 'app.c', Buffer.from('3'))).toThrow(QueueFullError);
      expect(broker.depth('other')).toBe(0);
    });

    it('still accepts messages that do not route to the full queue', () => {
      broker.sendToQueue('small', direct('1'));
      broker.sendToQueue('small', direct('2'));
      expect(() => broker.publish(EXCHANGE, 'user.created', Buffer.from('3'))).not.toThrow();
      expect(broker.depth('other')).toBe(1);
    });

    it('refuses sendToQueue to a full queue', () => {
      broker.publish(EXCHANGE, 'app.a', Buffer.from('1'));
      broker.publish(EXCHANGE, 'app.b', Buffer.from('2'));
      expect(() => broker.sendToQueue('small', direct('3'))).toThrow(QueueFullError);
      expect(broker.depth('small')).toBe(2);
    });

    it('makes room again once a consumer takes messages (unacked ones do not count)', async () => {
      broker.sendToQueue('small', direct('1'));
      broker.sendToQueue('small', direct('2'));
      const c = recordingConsumer(broker, 'small', 1);
      await waitFor(() => c.received.length === 1, 'one delivery');
      expect(() => broker.sendToQueue('small', direct('3'))).not.toThrow();
      expect(broker.peek('small', 10).map(text)).toEqual(['2', '3']);
    });

    it('takes back a retried message after its delay even when the queue is full', () => {
      jest.useFakeTimers();
      try {
        broker.sendToQueue('small', direct('1'));
        broker.sendToQueue('small', direct('2'));
        broker.redeliverLater('small', direct('retried'), 50);
        expect(() => jest.advanceTimersByTime(50)).not.toThrow();
        expect(broker.peek('small', 10).map(text)).toEqual(['1', '2', 'retried']);
      } finally {
        jest.useRealTimers();
      }
    });

    it('defaults to a large bound', () => {
      expect(new InMemoryBroker().maxQueueLength).toBe(100_000);
    });
  });

  describe('peek and depth', () => {
    beforeEach(() => {
      broker.assertQueue('dlq');
      broker.bindQueue(EXCHANGE, 'dlq', '#');
      publishAll(broker, 'k', ['1', '2', '3']);
    });

    it('returns up to `limit` messages from the head, in order', () => {
      expect(broker.peek('dlq', 2).map(text)).toEqual(['1', '2']);
      expect(broker.peek('dlq', 10).map(text)).toEqual(['1', '2', '3']);
    });

    it('does not remove what it returns', () => {
      broker.peek('dlq', 10);
      broker.peek('dlq', 10);
      expect(broker.depth('dlq')).toBe(3);
      expect(broker.peek('dlq', 10).map(text)).toEqual(['1', '2', '3']);
    });

    it('reflects deliveries already taken by a consumer', async () => {
      const c = recordingConsumer(broker, 'dlq', 1);
      await waitFor(() => c.received.length === 1, 'one delivery');
      expect(broker.peek('dlq', 10).map(text)).toEqual(['2', '3']);
      expect(broker.depth('dlq')).toBe(2);
    });

    it('returns nothing for a queue that does not exist', () => {
      expect(broker.peek('missing', 10)).toEqual([]);
      expect(broker.depth('missing')).toBe(0);
    });
  });

  describe('a long queue', () => {
    it('keeps FIFO order through many pushes, deliveries and requeues', async () => {
      broker.assertQueue('long');
      broker.bindQueue(EXCHANGE, 'long', '#');
      const count = 3000;
      publishAll(broker, 'k', Array.from({ length: count }, (_, i) => String(i)));
      const c = recordingConsumer(broker, 'long', 1500);
      await waitFor(() => c.received.length === 1500, 'the first 1500 deliveries');
      for (const m of c.received.slice(0, 1400)) c.consumer.ack(m);
      broker.cancel(c.consumer);
      broker.requeueUnacked(c.consumer);
      expect(broker.depth('long')).toBe(count - 1400);
      expect(broker.peek('long', 3).map(text)).toEqual(['1400', '1401', '1402']);

      const rest: string[] = [];
      broker.consume('long', 100, (message, self) => {
        rest.push(text(message));
        self.ack(message);
      });
      await waitFor(() => rest.length === count - 1400, 'the rest');
      expect(rest).toEqual(Array.from({ length: count - 1400 }, (_, i) => String(1400 + i)));
    });
  });

  describe('a consumer that acks at once', () => {
    it('leaves the event loop a turn every few hundred deliveries, even when each delivery publishes the next', async () => {
      broker.assertQueue('chain');
      broker.bindQueue(EXCHANGE, 'chain', '#');
      let deliveries = 0;
      let stop = false;
      broker.consume('chain', 100, (message, self) => {
        deliveries++;
        self.ack(message);
        if (!stop) broker.publish(EXCHANGE, 'k', Buffer.from(String(deliveries)));
      });
      broker.publish(EXCHANGE, 'k', Buffer.from('0'));

      // Without a budget per turn, this would run only once the endless chain had stopped.
      await new Promise((resolve) => setImmediate(resolve));
      const firstTurn = deliveries;
      await new Promise((resolve) => setImmediate(resolve));
      stop = true;

      expect(firstTurn).toBeGreaterThan(0);
      expect(firstTurn).toBeLessThanOrEqual(500);
      expect(deliveries).toBeGreaterThan(firstTurn);
    });
  });

  describe('scheduled timers', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('runs a scheduled function after its delay', () => {
      const fn = jest.fn();
      broker.schedule(1000, fn);
      jest.advanceTimersByTime(999);
      expect(fn).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('cancels every pending timer on dispose', () => {
      const fns = [jest.fn(), jest.fn(), jest.fn()];
      fns.forEach((fn, i) => broker.schedule(100 * (i + 1), fn));
      jest.advanceTimersByTime(100);
      expect(jest.getTimerCount()).toBe(2);

      broker.dispose();
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(10_000);
      expect(fns[0]).toHaveBeenCalledTimes(1);
      expect(fns[1]).not.toHaveBeenCalled();
      expect(fns[2]).not.toHaveBeenCalled();
    });

    it('can be disposed twice', () => {
      broker.schedule(10, jest.fn());
      broker.dispose();
      expect(() => broker.dispose()).not.toThrow();
    });
  });
});
