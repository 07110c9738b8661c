/**
 * `npm run bench:bus` — throughput and latency of the EventBus on both
 * transports, each next to a peer doing the same work in the same run:
 *
 * - in memory: the bus vs @nestjs/cqrs's EventBus (an in-process pub/sub);
 * - RabbitMQ:  the bus vs raw amqplib (durable topic exchange + durable queue,
 *              persistent messages, confirm channel, prefetch 100 with acks).
 *
 * Per system, alternating between the two compared: a warm-up, then
 *   1. end-to-end throughput, 3 runs (median shown): BENCH_EVENTS events
 *      published with publishAll in batches of 100 (each batch awaited) while a
 *      group subscription (prefetch 100) consumes; "publish" is N / time until
 *      the last batch resolved, "handled" is N / time from the first publish to
 *      the last handled event;
 *   2. (queued systems) publish with no consumer, then drain that backlog;
 *   3. latency publish → handler at a fixed 1,000 events/s for
 *      BENCH_RATE_SECONDS, stamped right before the publish call and measured
 *      in the handler (same process, performance.now()).
 *
 * Env: BENCH_EVENTS (20000), BENCH_RATE_SECONDS (5), BENCH_TRANSPORTS
 * ("memory,rabbitmq"), BENCH_RABBITMQ_URL (amqp://guest:guest@127.0.0.1:5672),
 * BENCH_RAW_NODELAY (true: the raw peer sets TCP_NODELAY, the best plain
 * amqplib can do; false: amqplib's default, Nagle on).
 * Everything declared on RabbitMQ lives under a unique namespace and is deleted
 * at the end.
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import { Inject, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule, EventBus as CqrsEventBus, EventsHandler, IEventHandler } from '@nestjs/cqrs';
import * as amqplib from 'amqplib';
import { AppEvents, AppInstalledPayload } from '../../src/apps/app.events';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/load-config';
import { EventBus, PublishRequest, Subscription } from '../../src/event-bus/event-bus';
import { EventBusModule } from '../../src/event-bus/event-bus.module';
import {
  collectGarbage,
  formatMs,
  formatRate,
  formatRatio,
  formatTable,
  LatencySummary,
  median,
  now,
  perSecond,
  sleep,
  summarize,
} from './stats';

// ---------------------------------------------------------------------------------------------- settings

function numberFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got "${text}")`);
  return value;
}

const EVENTS = Math.round(numberFromEnv('BENCH_EVENTS', 20_000));
const RATE_SECONDS = numberFromEnv('BENCH_RATE_SECONDS', 5);
const TRANSPORTS = (process.env.BENCH_TRANSPORTS ?? 'memory,rabbitmq').split(',').map((t) => t.trim());
const RABBITMQ_URL = process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** TCP_NODELAY on the raw peer's socket. amqplib leaves Nagle on by default, which costs ~40 ms per round trip on loopback. */
const RAW_NO_DELAY = process.env.BENCH_RAW_NODELAY !== 'false';
const RATE = 1_000;
const BATCH = 100;
const PREFETCH = 100;
const WARMUP_EVENTS = 1_000;
const WARMUP_RATE_SECONDS = 0.5;
/** End-to-end runs per system (alternating between the two compared); the table shows the median. */
const REPEATS = 3;
const PAYLOAD_BYTES = 300;
const GROUP = 'bench';

const TARGET_RABBIT_RATIO = 0.8;
const TARGET_P99_MS = 10;
const TARGET_MEMORY_RATIO = 0.5;

// ---------------------------------------------------------------------------------------------- payloads

const INSTALLED_AT = new Date().toISOString();

/** A valid UUID (v4 layout) carrying the sequence number, so handlers find the send time without extra fields. */
const appIdFor = (seq: number): string => `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`;
const seqOf = (appId: string): number => parseInt(appId.slice(24), 16);

const APP_NAME_PADDING = (() => {
  const base = JSON.stringify({ appId: appIdFor(0), appName: 'de.bench.', version: '1.0.0', installedAt: INSTALLED_AT });
  return 'x'.repeat(Math.max(1, PAYLOAD_BYTES - base.length));
})();

/** An `app.installed` payload of PAYLOAD_BYTES bytes of JSON. */
function payloadFor(seq: number): AppInstalledPayload {
  return { appId: appIdFor(seq), appName: `de.bench.${APP_NAME_PADDING}`, version: '1.0.0', installedAt: INSTALLED_AT };
}

// ---------------------------------------------------------------------------------------------- measuring

/** Counts handled events, records publish → handler latencies of stamped events, and wakes waiters. */
class Collector {
  private sentAt = new Float64Array(0);
  private nextSeq = 0;
  private target = Number.POSITIVE_INFINITY;
  private reached?: (at: number) => void;
  handled = 0;
  latencies: number[] = [];

  /** Reserves `count` sequence numbers; returns the first. */
  allocate(count: number): number {
    const first = this.nextSeq;
    this.nextSeq += count;
    if (this.nextSeq > this.sentAt.length) {
      const grown = new Float64Array(Math.max(this.nextSeq, this.sentAt.length * 2)).fill(Number.NaN);
      grown.set(this.sentAt);
      this.sentAt = grown;
    }
    return first;
  }

  stamp(seq: number): void {
    this.sentAt[seq] = now();
  }

  /** Called by every handler. */
  record(seq: number): void {
    const sent = this.sentAt[seq];
    if (sent === sent) this.latencies.push(now() - sent);
    if (++this.handled >= this.target && this.reached) {
      const reached = this.reached;
      this.reached = undefined;
      this.target = Number.POSITIVE_INFINITY;
      reached(now());
    }
  }

  /** Resolves with the time the `count`-th event from now was handled; rejects after `timeoutMs`. */
  expect(count: number, timeoutMs: number, what: string): Promise<number> {
    const start = this.handled;
    this.target = start + count;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<number>((resolve, reject) => {
      this.reached = resolve;
      timer = setTimeout(() => {
        this.reached = undefined;
        this.target = Number.POSITIVE_INFINITY;
        reject(new Error(`${what}: only ${this.handled - start} of ${count} events handled after ${timeoutMs} ms`));
      }, timeoutMs);
    }).finally(() => clearTimeout(timer));
  }
}

/** One system under test: something that publishes `app.installed` events and hands them to a consumer. */
interface Peer {
  readonly label: string;
  /** Whether events wait in a queue while nobody consumes (so "publish only" and "drain" make sense). */
  readonly queued: boolean;
  readonly collector: Collector;
  publishBatch(first: number, count: number): Promise<void>;
  publishOne(seq: number): Promise<unknown>;
  attach(): Promise<void>;
  detach(): Promise<void>;
  close(): Promise<void>;
}

interface SuiteResult {
  readonly publish: number;
  readonly handled: number;
  readonly publishOnly?: number;
  readonly drain?: number;
  readonly latency: LatencySummary;
  readonly achievedRate: number;
  /** Handled rate of each end-to-end run (the figures above are medians). */
  readonly handledRuns: readonly number[];
  /** CPU of this process (user + system) per event during the end-to-end runs, µs. */
  readonly cpuEndToEnd: number;
}

const timeoutFor = (events: number) => 60_000 + events * 5;

async function publishBatches(peer: Peer, count: number): Promise<void> {
  for (let done = 0; done < count; done += BATCH) {
    const size = Math.min(BATCH, count - done);
    await peer.publishBatch(peer.collector.allocate(size), size);
  }
}

/** Publishes `count` events in batches while the consumer runs; rates of publishing and of handling. */
async function endToEnd(peer: Peer, count: number): Promise<{ publish: number; handled: number; cpuMicros: number }> {
  const handled = peer.collector.expect(count, timeoutFor(count), `${peer.label} end-to-end`);
  const cpu = process.cpuUsage();
  const start = now();
  await publishBatches(peer, count);
  const published = now();
  const lastHandled = await handled;
  return { publish: perSecond(count, published - start), handled: perSecond(count, lastHandled - start), cpuMicros: cpuPerEvent(cpu, count) };
}

/** This process's CPU time (user + system) since `since`, per event, in µs. */
function cpuPerEvent(since: NodeJS.CpuUsage, count: number): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / count;
}

/** Publishes at a fixed rate for `seconds`; latency of each event from just before its publish call to its handler. */
async function fixedRate(peer: Peer, rate: number, seconds: number): Promise<{ latency: LatencySummary; achievedRate: number }> {
  const { collector } = peer;
  const total = Math.max(1, Math.round(rate * seconds));
  collector.latencies = [];
  const handled = collector.expect(total, timeoutFor(total), `${peer.label} at ${rate} events/s`);
  const first = collector.allocate(total);
  const failures: Error[] = [];
  let sent = 0;
  const start = now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000) + 1);
      while (sent < due) {
        const seq = first + sent++;
        collector.stamp(seq);
        peer.publishOne(seq).catch((error: Error) => failures.push(error));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  const achievedRate = perSecond(total, now() - start);
  await handled.catch((error: Error) => {
    throw failures.length > 0 ? new Error(`${error.message}; ${failures.length} publishes failed, e.g. ${failures[0].message}`) : error;
  });
  return { latency: summarize(collector.latencies), achievedRate };
}

/** Runs the phases for two systems, alternating between them so drift (JIT, broker, disk) hits both alike. */
async function compare(peers: readonly [Peer, Peer]): Promise<[SuiteResult, SuiteResult]> {
  const progress = (text: string) => process.stderr.write(text);
  progress('  warm-up…');
  for (const peer of peers) {
    await peer.attach();
    await endToEnd(peer, WARMUP_EVENTS);
    await fixedRate(peer, RATE, WARMUP_RATE_SECONDS);
  }

  const runs: Array<Array<{ publish: number; handled: number; cpuMicros: number }>> = [[], []];
  for (let repeat = 1; repeat <= REPEATS; repeat++) {
    progress(` end-to-end ${repeat}/${REPEATS}…`);
    for (const [i, peer] of peers.entries()) {
      collectGarbage();
      runs[i].push(await endToEnd(peer, EVENTS));
    }
  }

  const backlog: Array<{ publishOnly?: number; drain?: number }> = [{}, {}];
  for (const [i, peer] of peers.entries()) {
    if (!peer.queued) continue;
    progress(` ${peer.label} publish only + drain…`);
    await peer.detach();
    collectGarbage();
    let start = now();
    await publishBatches(peer, EVENTS);
    const publishOnly = perSecond(EVENTS, now() - start);
    collectGarbage();
    const drained = peer.collector.expect(EVENTS, timeoutFor(EVENTS), `${peer.label} drain`);
    start = now();
    await peer.attach();
    backlog[i] = { publishOnly, drain: perSecond(EVENTS, (await drained) - start) };
  }

  const fixed: Array<{ latency: LatencySummary; achievedRate: number }> = [];
  for (const peer of peers) {
    progress(` ${peer.label} at ${RATE}/s for ${RATE_SECONDS} s…`);
    collectGarbage();
    await sleep(200);
    fixed.push(await fixedRate(peer, RATE, RATE_SECONDS));
  }
  progress(' done\n');

  const result = (i: number): SuiteResult => ({
    publish: median(runs[i].map((r) => r.publish)),
    handled: median(runs[i].map((r) => r.handled)),
    handledRuns: runs[i].map((r) => r.handled),
    cpuEndToEnd: median(runs[i].map((r) => r.cpuMicros)),
    ...backlog[i],
    ...fixed[i],
  });
  return [result(0), result(1)];
}

// ---------------------------------------------------------------------------------------------- the bus

class BusPeer implements Peer {
  readonly queued = true;
  private subscription?: Subscription;
  wireBytes = 0;

  private constructor(
    readonly label: string,
    readonly collector: Collector,
    private readonly app: INestApplicationContext,
    readonly bus: EventBus,
    readonly maxRetries: number,
  ) {}

  static async start(transport: 'memory' | 'rabbitmq', namespace: string): Promise<BusPeer> {
    const config = loadConfig({
      ...(transport === 'rabbitmq'
        ? { APPSERVER_EVENTBUS_ENABLED: 'true', APPSERVER_RABBITMQ_URL: RABBITMQ_URL }
        : { APPSERVER_EVENTBUS_ENABLED: 'false' }),
      // On RabbitMQ as in production: durable exchange and queues, like the raw peer's (the unique namespace keeps runs apart).
      APPSERVER_EVENTBUS_TEST_MODE: transport === 'rabbitmq' ? 'false' : 'true',
      APPSERVER_INSTANCE_ID: 'bench',
      APPSERVER_RABBITMQ_PREFETCH_COUNT: String(PREFETCH),
    });
    @Module({ imports: [ConfigModule.forRoot(config), EventBusModule.forRoot({ namespace, connectTimeoutMs: 5_000 })] })
    class BusBenchModule {}
    const app = await NestFactory.createApplicationContext(BusBenchModule, { logger: false });
    await app.init();
    const peer = new BusPeer(`${transport} bus`, new Collector(), app, app.get(EventBus), config.eventBus.rabbitmq.maxRetries);
    const envelope = peer.bus.createEnvelope(AppEvents.INSTALLED, payloadFor(0));
    peer.wireBytes = Buffer.byteLength(JSON.stringify(envelope));
    return peer;
  }

  /** Queues and exchanges this bus declared on RabbitMQ. */
  declared(namespace: string): { queues: string[]; exchanges: string[] } {
    const retries = Array.from({ length: this.maxRetries }, (_, i) => `${namespace}.retry.${i + 1}`);
    return {
      queues: [`${namespace}.group.${GROUP}`, `${namespace}.group.${GROUP}.dead`, ...retries],
      exchanges: [`${namespace}.events`, ...retries],
    };
  }

  async publishBatch(first: number, count: number): Promise<void> {
    const requests: PublishRequest[] = [];
    for (let i = 0; i < count; i++) requests.push({ type: AppEvents.INSTALLED, payload: payloadFor(first + i) });
    await this.bus.publishAll(requests);
  }

  publishOne(seq: number): Promise<unknown> {
    return this.bus.publish(AppEvents.INSTALLED, payloadFor(seq));
  }

  async attach(): Promise<void> {
    this.subscription = await this.bus.subscribe(AppEvents.INSTALLED, (event) => this.collector.record(seqOf(event.data.appId)), { group: GROUP });
  }

  async detach(): Promise<void> {
    if (this.subscription) await this.bus.unsubscribe(this.subscription);
    this.subscription = undefined;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

// ---------------------------------------------------------------------------------------------- @nestjs/cqrs

class AppInstalledCqrsEvent {
  constructor(readonly payload: AppInstalledPayload) {}
}

const CQRS_COLLECTOR = Symbol('CQRS_COLLECTOR');

@EventsHandler(AppInstalledCqrsEvent)
class AppInstalledCqrsHandler implements IEventHandler<AppInstalledCqrsEvent> {
  constructor(@Inject(CQRS_COLLECTOR) private readonly collector: Collector) {}

  handle(event: AppInstalledCqrsEvent): void {
    this.collector.record(seqOf(event.payload.appId));
  }
}

class CqrsPeer implements Peer {
  readonly label = '@nestjs/cqrs';
  readonly queued = false;

  private constructor(
    readonly collector: Collector,
    private readonly app: INestApplicationContext,
    private readonly events: CqrsEventBus,
  ) {}

  static async start(): Promise<CqrsPeer> {
    const collector = new Collector();
    @Module({ imports: [CqrsModule.forRoot()], providers: [{ provide: CQRS_COLLECTOR, useValue: collector }, AppInstalledCqrsHandler] })
    class CqrsBenchModule {}
    const app = await NestFactory.createApplicationContext(CqrsBenchModule, { logger: false });
    await app.init();
    return new CqrsPeer(collector, app, app.get(CqrsEventBus));
  }

  async publishBatch(first: number, count: number): Promise<void> {
    const events: AppInstalledCqrsEvent[] = [];
    for (let i = 0; i < count; i++) events.push(new AppInstalledCqrsEvent(payloadFor(first + i)));
    this.events.publishAll(events);
  }

  async publishOne(seq: number): Promise<unknown> {
    return this.events.publish(new AppInstalledCqrsEvent(payloadFor(seq)));
  }

  async attach(): Promise<void> {}

  async detach(): Promise<void> {}

  async close(): Promise<void> {
    await this.app.close();
  }
}

// ---------------------------------------------------------------------------------------------- raw amqplib

class RawAmqpPeer implements Peer {
  readonly label = 'raw amqplib';
  readonly queued = true;
  readonly collector = new Collector();
  readonly exchange: string;
  readonly queue: string;
  private consumerTag?: string;
  private static readonly OPTIONS: amqplib.Options.Publish = { persistent: true, contentType: 'application/json' };

  private constructor(
    private readonly connection: amqplib.ChannelModel,
    private readonly publisher: amqplib.ConfirmChannel,
    private readonly consumer: amqplib.Channel,
    namespace: string,
  ) {
    this.exchange = `${namespace}.raw`;
    this.queue = `${namespace}.raw.queue`;
  }

  static async start(namespace: string): Promise<RawAmqpPeer> {
    const connection = await amqplib.connect(RABBITMQ_URL, { noDelay: RAW_NO_DELAY });
    const peer = new RawAmqpPeer(connection, await connection.createConfirmChannel(), await connection.createChannel(), namespace);
    await peer.publisher.assertExchange(peer.exchange, 'topic', { durable: true });
    await peer.publisher.assertQueue(peer.queue, { durable: true });
    await peer.publisher.bindQueue(peer.queue, peer.exchange, AppEvents.INSTALLED);
    await peer.consumer.prefetch(PREFETCH);
    return peer;
  }

  get serverVersion(): string {
    return String((this.connection.connection as unknown as { serverProperties?: { version?: string } }).serverProperties?.version ?? '?');
  }

  async publishBatch(first: number, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.publisher.publish(this.exchange, AppEvents.INSTALLED, Buffer.from(JSON.stringify(payloadFor(first + i))), RawAmqpPeer.OPTIONS);
    }
    await this.publisher.waitForConfirms();
  }

  publishOne(seq: number): Promise<unknown> {
    return new Promise<void>((resolve, reject) => {
      this.publisher.publish(this.exchange, AppEvents.INSTALLED, Buffer.from(JSON.stringify(payloadFor(seq))), RawAmqpPeer.OPTIONS, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }

  async attach(): Promise<void> {
    const { consumerTag } = await this.consumer.consume(
      this.queue,
      (message) => {
        if (!message) return;
        const payload = JSON.parse(message.content.toString('utf8')) as AppInstalledPayload;
        this.collector.record(seqOf(payload.appId));
        this.consumer.ack(message);
      },
      { noAck: false },
    );
    this.consumerTag = consumerTag;
  }

  async detach(): Promise<void> {
    if (this.consumerTag) await this.consumer.cancel(this.consumerTag);
    this.consumerTag = undefined;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** Deletes what the benchmark declared; then, where rabbitmqctl is at hand, sweeps anything else left under the namespace. */
async function cleanUpRabbitMq(namespace: string, queues: Iterable<string>, exchanges: Iterable<string>): Promise<string> {
  const connection = await amqplib.connect(RABBITMQ_URL);
  let deleted = 0;
  try {
    let channel = await connection.createChannel();
    const attempt = async (action: (c: amqplib.Channel) => Promise<unknown>) => {
      try {
        await action(channel);
        deleted++;
      } catch {
        // A failed operation closes the channel (e.g. not found on old brokers); carry on with a new one.
        channel = await connection.createChannel();
      }
    };
    const run = promisify(execFile);
    const leftovers = async (what: 'queues' | 'exchanges'): Promise<string[]> => {
      try {
        const { stdout } = await run('rabbitmqctl', [`list_${what}`, '-q', '--no-table-headers', 'name'], { timeout: 20_000 });
        return stdout
          .split('\n')
          .map((line) => line.trim())
          .filter((name) => name.startsWith(`${namespace}.`));
      } catch {
        return [];
      }
    };
    for (const queue of new Set(queues)) await attempt((c) => c.deleteQueue(queue));
    for (const exchange of new Set(exchanges)) await attempt((c) => c.deleteExchange(exchange));
    const strayQueues = await leftovers('queues');
    const strayExchanges = await leftovers('exchanges');
    for (const queue of strayQueues) await attempt((c) => c.deleteQueue(queue));
    for (const exchange of strayExchanges) await attempt((c) => c.deleteExchange(exchange));
    const stray = strayQueues.length + strayExchanges.length;
    return `deleted ${deleted} queues/exchanges under "${namespace}."${stray > 0 ? ` (${stray} found by rabbitmqctl beyond the known names)` : ''}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------- report

const met = (ok: boolean) => (ok ? 'yes' : 'NO');
const dash = '—';

interface TargetOutcome {
  readonly name: string;
  readonly ok: boolean;
}

function memoryTable(bus: SuiteResult, cqrs: SuiteResult, outcomes: TargetOutcome[]): string {
  const handledRatio = bus.handled / cqrs.handled;
  outcomes.push({ name: `in-memory handled ≥ ${TARGET_MEMORY_RATIO}× @nestjs/cqrs`, ok: handledRatio >= TARGET_MEMORY_RATIO });
  const rows = [
    ['publish (publishAll ×100), events/s', formatRate(bus.publish), formatRate(cqrs.publish), formatRatio(bus.publish / cqrs.publish), dash, ''],
    [
      'handled end-to-end, events/s',
      formatRate(bus.handled),
      formatRate(cqrs.handled),
      formatRatio(handledRatio),
      `≥ ${TARGET_MEMORY_RATIO.toFixed(2)}×`,
      met(handledRatio >= TARGET_MEMORY_RATIO),
    ],
    ['publish, no consumer, events/s', formatRate(bus.publishOnly ?? Number.NaN), dash, dash, dash, ''],
    ['drain of that backlog, events/s', formatRate(bus.drain ?? Number.NaN), dash, dash, dash, ''],
    ...latencyRows(bus, cqrs, 3),
    ...cpuRows(bus, cqrs),
  ];
  return formatTable(['', 'bus', '@nestjs/cqrs', 'bus/cqrs', 'target', 'met'], rows);
}

function rabbitTable(bus: SuiteResult, raw: SuiteResult, outcomes: TargetOutcome[]): string {
  const publishRatio = bus.publish / raw.publish;
  const handledRatio = bus.handled / raw.handled;
  const p99Ok = bus.latency.p99 <= TARGET_P99_MS;
  outcomes.push(
    { name: `RabbitMQ publish ≥ ${TARGET_RABBIT_RATIO}× raw amqplib`, ok: publishRatio >= TARGET_RABBIT_RATIO },
    { name: `RabbitMQ handled ≥ ${TARGET_RABBIT_RATIO}× raw amqplib`, ok: handledRatio >= TARGET_RABBIT_RATIO },
    { name: `RabbitMQ p99 ≤ ${TARGET_P99_MS} ms at ${RATE} events/s`, ok: p99Ok },
  );
  const target = `≥ ${TARGET_RABBIT_RATIO.toFixed(2)}×`;
  const rows = [
    ['publish (publishAll ×100, confirms), events/s', formatRate(bus.publish), formatRate(raw.publish), formatRatio(publishRatio), target, met(publishRatio >= TARGET_RABBIT_RATIO)],
    ['handled end-to-end (prefetch 100), events/s', formatRate(bus.handled), formatRate(raw.handled), formatRatio(handledRatio), target, met(handledRatio >= TARGET_RABBIT_RATIO)],
    ['publish, no consumer, events/s', formatRate(bus.publishOnly!), formatRate(raw.publishOnly!), formatRatio(bus.publishOnly! / raw.publishOnly!), dash, ''],
    ['drain of that backlog, events/s', formatRate(bus.drain!), formatRate(raw.drain!), formatRatio(bus.drain! / raw.drain!), dash, ''],
    ...latencyRows(bus, raw, 2, p99Ok),
    ...cpuRows(bus, raw),
  ];
  return formatTable(['', 'bus', 'raw amqplib', 'bus/raw', 'target', 'met'], rows);
}

function latencyRows(bus: SuiteResult, peer: SuiteResult, digits: number, p99Ok?: boolean): string[][] {
  const at = `@ ${RATE.toLocaleString('en-US')}/s`;
  const row = (name: string, pick: (l: LatencySummary) => number, target = dash, ok = '') => [
    `latency ${name} ${at}, ms`,
    formatMs(pick(bus.latency), digits),
    formatMs(pick(peer.latency), digits),
    formatRatio(pick(bus.latency) / pick(peer.latency)),
    target,
    ok,
  ];
  return [
    row('p50', (l) => l.p50),
    row('p99', (l) => l.p99, p99Ok === undefined ? dash : `≤ ${TARGET_P99_MS} ms`, p99Ok === undefined ? '' : met(p99Ok)),
    row('max', (l) => l.max),
  ];
}

function cpuRows(bus: SuiteResult, peer: SuiteResult): string[][] {
  return [['client CPU per event, end-to-end, µs', formatMs(bus.cpuEndToEnd, 1), formatMs(peer.cpuEndToEnd, 1), formatRatio(bus.cpuEndToEnd / peer.cpuEndToEnd), dash, '']];
}

const runsNote = (result: SuiteResult) => result.handledRuns.map(formatRate).join(' / ');

const rateNote = (label: string, result: SuiteResult) =>
  `${label} ${formatRate(result.achievedRate)}/s over ${result.latency.count.toLocaleString('en-US')} events`;

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  const began = now();
  const outcomes: TargetOutcome[] = [];
  const output: string[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    while (closers.length > 0) await closers.pop()!().catch((error: Error) => process.stderr.write(`close failed: ${error.message}\n`));
  };
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted: closing and cleaning up…\n');
    void closeAll().finally(() => process.exit(130));
  });

  console.log(
    `EventBus benchmark — ${EVENTS.toLocaleString('en-US')} events of 'app.installed' (payload ${PAYLOAD_BYTES} B JSON), ` +
      `publishAll in batches of ${BATCH}, group subscription with prefetch ${PREFETCH}; latency at ${RATE.toLocaleString('en-US')} events/s for ${RATE_SECONDS} s.`,
  );
  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'}); warm-up ${WARMUP_EVENTS.toLocaleString('en-US')} events + ${WARMUP_RATE_SECONDS} s at the fixed rate per system.`);
  let exitCode = 0;

  try {
    if (TRANSPORTS.includes('memory')) {
      console.error('In-memory transport vs @nestjs/cqrs:');
      const bus = await BusPeer.start('memory', `bench-${randomBytes(4).toString('hex')}`);
      closers.push(() => bus.close());
      const cqrs = await CqrsPeer.start();
      closers.push(() => cqrs.close());
      const [busResult, cqrsResult] = await compare([bus, cqrs]);
      await closeAll();
      output.push(
        '',
        `IN-MEMORY TRANSPORT vs @nestjs/cqrs EventBus (bus body on the wire: ${bus.wireBytes} B envelope; cqrs passes the object)`,
        memoryTable(busResult, cqrsResult, outcomes),
        `  throughput rows: median of ${REPEATS} alternating runs; handled per run: bus ${runsNote(busResult)}; cqrs ${runsNote(cqrsResult)}.`,
        `  fixed rate achieved: ${rateNote('bus', busResult)}; ${rateNote('cqrs', cqrsResult)}.`,
        '  cqrs dispatches synchronously inside publish() (no queue, no serialisation, no validation): no backlog rows.',
      );
    }

    if (TRANSPORTS.includes('rabbitmq')) {
      console.error('RabbitMQ transport vs raw amqplib:');
      const namespace = `bench-${randomBytes(4).toString('hex')}`;
      const queues: string[] = [];
      const exchanges: string[] = [];
      // Runs last (closers run in reverse), after both clients have closed; also on Ctrl-C.
      closers.push(async () => {
        if (queues.length + exchanges.length === 0) return;
        const note = await cleanUpRabbitMq(namespace, queues, exchanges).catch((error: Error) => `cleanup failed: ${error.message}`);
        output.push(`  RabbitMQ cleanup: ${note}.`);
      });
      try {
        const raw = await RawAmqpPeer.start(namespace);
        queues.push(raw.queue);
        exchanges.push(raw.exchange);
        closers.push(() => raw.close());
        const bus = await BusPeer.start('rabbitmq', namespace);
        const declared = bus.declared(namespace);
        queues.push(...declared.queues);
        exchanges.push(...declared.exchanges);
        closers.push(() => bus.close());
        const [busResult, rawResult] = await compare([bus, raw]);
        output.push(
          '',
          `RABBITMQ TRANSPORT vs raw amqplib (RabbitMQ ${raw.serverVersion} at ${RABBITMQ_URL.replace(/\/\/[^@]*@/, '//')}; bus body ${bus.wireBytes} B envelope, raw body ${PAYLOAD_BYTES} B)`,
          rabbitTable(busResult, rawResult, outcomes),
          `  throughput rows: median of ${REPEATS} alternating runs; handled per run: bus ${runsNote(busResult)}; raw ${runsNote(rawResult)}.`,
          `  fixed rate achieved: ${rateNote('bus', busResult)}; ${rateNote('raw', rawResult)}.`,
          `  raw: durable topic exchange + durable queue, persistent messages, confirm channel (waitForConfirms per batch), prefetch 100, ack per message; ` +
            `one connection, ${RAW_NO_DELAY ? 'TCP_NODELAY on (amqplib default is off)' : "amqplib's default socket (Nagle on)"}.`,
          '  bus: production settings (APPSERVER_EVENTBUS_TEST_MODE=false): durable exchange and queues, persistent messages, as the raw peer; under its own namespace, deleted at the end.',
        );
      } catch (error) {
        const message = (error as Error).message;
        if (!/ECONNREFUSED|Cannot reach RabbitMQ/.test(message)) throw error;
        output.push('', `RABBITMQ TRANSPORT: skipped — RabbitMQ not reachable at ${RABBITMQ_URL} (${message.split('\n')[0]})`);
        exitCode = 1;
      } finally {
        await closeAll();
      }
    }
  } finally {
    await closeAll();
  }

  console.log(output.join('\n'));
  console.log('');
  const passed = outcomes.filter((o) => o.ok).length;
  console.log(`TARGETS: ${passed} of ${outcomes.length} met${outcomes.length > passed ? ` — not met: ${outcomes.filter((o) => !o.ok).map((o) => o.name).join('; ')}` : ''}.`);
  console.log(`Finished in ${((now() - began) / 1000).toFixed(1)} s.`);
  return exitCode;
}

main()
  .then((code) => {
    process.exitCode = code;
    // Everything is closed; should a library still hold a handle, do not hang the terminal.
    setTimeout(() => {
      process.stderr.write(`still running after close: ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
      process.exit(code);
    }, 5_000).unref();
  })
  .catch((error: Error) => {
    console.error(`bench:bus failed: ${error.stack ?? error.message}`);
    process.exit(1);
  });
