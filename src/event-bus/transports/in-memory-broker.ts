import { InboundMessage } from '../event-transport';
import { compileTopicPattern, TopicMatcher } from '../topic-pattern';

const MAX_CACHED_ROUTES = 1_000;
/** Deliveries one queue makes in one turn of the event loop, so that timers and I/O get their turn too. */
const DELIVERIES_PER_TURN = 500;

/** What a queue holds: bytes with a routing key and headers, and, when published within the process, the envelope itself. */
export type BrokerMessage = InboundMessage;

/** `message` with other headers and redelivery flag. Its bytes are read only if someone asks: a local message may never need them. */
export function copyMessage(message: BrokerMessage, headers: Readonly<Record<string, unknown>>, redelivered: boolean): BrokerMessage {
  return {
    routingKey: message.routingKey,
    headers,
    redelivered,
    ...(message.envelope ? { envelope: message.envelope } : {}),
    get body() {
      return message.body;
    },
  };
}

export type BrokerListener = (message: BrokerMessage, consumer: BrokerConsumer) => void;

/** A queue is full: the in-memory broker refuses the publish rather than grow without bound. */
export class QueueFullError extends Error {
  constructor(queue: string, maxLength: number) {
    super(`In-memory queue "${queue}" is full (${maxLength} messages): the publish was refused`);
    this.name = 'QueueFullError';
  }
}

/** FIFO with O(1) push and shift, compacting as it drains. */
class MessageQueue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  peek(limit: number): T[] {
    return this.items.slice(this.head, this.head + limit);
  }
}

export class BrokerConsumer {
  readonly unacked = new Set<BrokerMessage>();
  active = true;

  constructor(
    readonly queue: BrokerQueue,
    readonly prefetch: number,
    readonly listener: BrokerListener,
  ) {}

  /** Settles a delivery. A delivery from before a cancel was requeued then, and is ignored now. */
  ack(message: BrokerMessage): boolean {
    if (!this.unacked.delete(message)) return false;
    this.queue.schedulePump();
    return true;
  }
}

class BrokerQueue {
  readonly messages = new MessageQueue<BrokerMessage>();
  readonly consumers: BrokerConsumer[] = [];
  private nextConsumer = 0;
  private pumpScheduled = false;

  constructor(
    readonly name: string,
    readonly maxLength: number,
  ) {}

  enqueue(message: BrokerMessage): void {
    this.messages.push(message);
    this.schedulePump();
  }

  hasRoom(): boolean {
    return this.messages.length < this.maxLength;
  }

  schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Deliver on a later turn, as a network broker would: a handler that publishes never recurses into delivery.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Round-robin over consumers that still have prefetch credit, as RabbitMQ does. */
  private pump(): void {
    let budget = DELIVERIES_PER_TURN;
    while (this.messages.length > 0 && this.consumers.length > 0) {
      // Synchronous handlers ack at once, so prefetch alone would not stop this loop (nor a handler that keeps
      // publishing to its own queue): after a turn's share, the rest waits for the next turn of the event loop.
      if (budget-- === 0) return this.schedulePump();
      const consumer = this.pickConsumer();
      if (!consumer) return;
      const message = this.messages.shift()!;
      consumer.unacked.add(message);
      try {
        consumer.listener(message, consumer);
      } catch (error) {
        // A listener must not take the broker down; the message stays unacknowledged, as on RabbitMQ.
        process.emitWarning(`In-memory consumer of "${this.name}" threw: ${(error as Error).message}`);
      }
    }
  }

  private pickConsumer(): BrokerConsumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const index = (this.nextConsumer + i) % this.consumers.length;
      const consumer = this.consumers[index];
      if (consumer.active && consumer.unacked.size < consumer.prefetch) {
        this.nextConsumer = index + 1;
        return consumer;
      }
    }
    return undefined;
  }
}

interface Binding {
  readonly queue: BrokerQueue;
  readonly pattern: string;
  readonly matches: TopicMatcher;
}

/**
 * A small in-process broker with RabbitMQ's semantics: topic exchanges, queues
 * with competing consumers and prefetch, acknowledgements, requeue of unacked
 * messages when a consumer goes away. Several EventBus instances may share one
 * (two applications in one test process); each process otherwise has its own.
 */
export class InMemoryBroker {
  private readonly queues = new Map<string, BrokerQueue>();
  private readonly bindings = new Map<string, Binding[]>();
  /** exchange → routing key → queues it reaches; dropped whenever the bindings change. Spares every publish the pattern matching. */
  private readonly routes = new Map<string, Map<string, BrokerQueue[]>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly maxQueueLength = 100_000) {}

  assertQueue(name: string): void {
    if (!this.queues.has(name)) this.queues.set(name, new BrokerQueue(name, this.maxQueueLength));
  }

  bindQueue(exchange: string, queue: string, pattern: string): void {
    const target = this.requireQueue(queue);
    const list = this.bindings.get(exchange) ?? [];
    if (!list.some((b) => b.queue === target && b.pattern === pattern)) {
      list.push({ queue: target, pattern, matches: compileTopicPattern(pattern) });
    }
    this.bindings.set(exchange, list);
    this.routes.delete(exchange);
  }

  deleteQueue(name: string): void {
    const queue = this.queues.get(name);
    if (!queue) return;
    this.queues.delete(name);
    for (const [exchange, list] of this.bindings) {
      this.bindings.set(
        exchange,
        list.filter((b) => b.queue !== queue),
      );
    }
    this.routes.clear();
  }

  /** Routes to every bound queue whose pattern matches; each queue gets one copy. Refuses if any is full. */
  publish(exchange: string, routingKey: string, body: Buffer, headers: Record<string, unknown> = {}): void {
    this.publishMessage(exchange, { body, routingKey, headers, redelivered: false });
  }

  /**
   * `publish` for a message built by the caller (the in-memory transport's, which carries its envelope).
   * Returns the length of the longest queue it went to, so a publisher can tell when to let consumers catch up.
   */
  publishMessage(exchange: string, message: BrokerMessage): number {
    const targets = this.route(exchange, message.routingKey);
    for (const queue of targets) {
      if (!queue.hasRoom()) throw new QueueFullError(queue.name, queue.maxLength);
    }
    let longest = 0;
    // Queues may share the message object: it is never changed, only copied (requeue, retry, dead letter).
    for (const queue of targets) {
      queue.enqueue(message);
      longest = Math.max(longest, queue.messages.length);
    }
    return longest;
  }

  private route(exchange: string, routingKey: string): readonly BrokerQueue[] {
    let byKey = this.routes.get(exchange);
    if (!byKey) this.routes.set(exchange, (byKey = new Map()));
    let targets = byKey.get(routingKey);
    if (!targets) {
      targets = [];
      for (const binding of this.bindings.get(exchange) ?? []) {
        if (binding.matches(routingKey) && !targets.includes(binding.queue)) targets.push(binding.queue);
      }
      // Routing keys are event types, a short list; the bound keeps an odd publisher from growing the map forever.
      if (byKey.size >= MAX_CACHED_ROUTES) byKey.clear();
      byKey.set(routingKey, targets);
    }
    return targets;
  }

  /** Puts a message straight into a queue (the default exchange). */
  sendToQueue(queue: string, message: BrokerMessage): void {
    const target = this.requireQueue(queue);
    if (!target.hasRoom()) throw new QueueFullError(target.name, target.maxLength);
    target.enqueue(message);
  }

  consume(queue: string, prefetch: number, listener: BrokerListener): BrokerConsumer {
    const target = this.requireQueue(queue);
    const consumer = new BrokerConsumer(target, prefetch, listener);
    target.consumers.push(consumer);
    target.schedulePump();
    return consumer;
  }

  /** Stops deliveries to `consumer`; its unacknowledged messages stay with it until settled or requeued. */
  cancel(consumer: BrokerConsumer): void {
    consumer.active = false;
    const queue = consumer.queue;
    const index = queue.consumers.indexOf(consumer);
    if (index >= 0) queue.consumers.splice(index, 1);
  }

  /** Returns a consumer's unacknowledged messages to the head of its queue, as a closed AMQP channel does. */
  requeueUnacked(consumer: BrokerConsumer): void {
    const pending = [...consumer.unacked].reverse();
    consumer.unacked.clear();
    for (const message of pending) consumer.queue.messages.unshift(copyMessage(message, message.headers, true));
    consumer.queue.schedulePump();
  }

  peek(queue: string, limit: number): BrokerMessage[] {
    return this.queues.get(queue)?.messages.peek(limit) ?? [];
  }

  depth(queue: string): number {
    return this.queues.get(queue)?.messages.length ?? 0;
  }

  /**
   * Puts `message` back into `queue` after `ms`: the in-memory stand-in for a TTL'd retry queue. Like a
   * message returning from RabbitMQ's retry queue, it is not new load and is not refused by the bound —
   * throwing from a timer would take the process down and lose the message.
   */
  redeliverLater(queue: string, message: BrokerMessage, ms: number): void {
    const target = this.requireQueue(queue);
    this.schedule(ms, () => target.enqueue(message));
  }

  /** Runs `fn` after `ms`, unless the broker is disposed first. */
  schedule(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private requireQueue(name: string): BrokerQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`In-memory queue "${name}" does not exist`);
    return queue;
  }
}
