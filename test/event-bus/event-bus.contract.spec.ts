import { Injectable } from '@nestjs/common';
import { EventBus, Subscription } from '../../src/event-bus/event-bus';
import { AnyEventEnvelope, EventEnvelope } from '../../src/event-bus/event-envelope';
import { EventValidationError, NonRetryableError } from '../../src/event-bus/errors';
import { EventSourceAuthorizer, EventSourceVerdict } from '../../src/event-bus/event-source-authorizer';
import { OnEvent } from '../../src/event-bus/on-event.decorator';
import { EnvelopeFor } from '../../src/event-bus/event-envelope';
import { describeWith, isAvailable } from '../support/services';
import { Gate, waitFor } from '../support/wait-for';
import { payloads } from './support/payloads';
import { InMemoryHarness, RabbitMqHarness, TransportHarness } from './support/transport-harness';

/**
 * One contract, two transports: every case below runs against the in-memory
 * transport and against the real RabbitMQ. A difference between them is a bug.
 */
const transports: Array<[string, () => TransportHarness]> = [
  ['in-memory', () => new InMemoryHarness()],
  ['rabbitmq', () => new RabbitMqHarness()],
];

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Collects what a handler received. */
class Recorder<E extends EventEnvelope = AnyEventEnvelope> {
  readonly events: E[] = [];
  readonly handle = (event: E): void => {
    this.events.push(event);
  };
  ids(): string[] {
    return this.events.map((e) => e.id);
  }
  has(id: string): boolean {
    return this.events.some((e) => e.id === id);
  }
}

for (const [label, createHarness] of transports) {
  const needs = label === 'rabbitmq' ? (['rabbitmq'] as const) : ([] as const);

  describeWith([...needs], `EventBus contract (${label})`, () => {
    let harness: TransportHarness;

    beforeEach(() => {
      harness = createHarness();
    });

    afterEach(async () => {
      await harness.stopAll();
    });

    describe('routing', () => {
      it('delivers exact types and AMQP wildcards (*, #) to exactly the matching subscriptions', async () => {
        const { bus } = await harness.start();
        const patterns = ['app.installed', 'app.*', '*.created', 'app.#', '#'] as const;
        const recorders = new Map(patterns.map((p) => [p, new Recorder()]));
        for (const pattern of patterns) await bus.subscribe(pattern, recorders.get(pattern)!.handle as never);

        const installed = await bus.publish('app.installed', payloads.appInstalled('a'));
        const registered = await bus.publish('app.registered', payloads.appRegistered('b'));
        const userCreated = await bus.publish('user.created', payloads.userCreated('c'));
        const sessionCreated = await bus.publish('session.created', payloads.sessionCreated());
        const settingsUpdated = await bus.publish('settings.updated', payloads.settingsUpdated('de.test.e', 1));
        // Barriers: each queue is FIFO, so once a subscription has its barrier it has everything published before it.
        const appBarrier = await bus.publish('app.installed', payloads.appInstalled('barrier'));
        const createdBarrier = await bus.publish('user.created', payloads.userCreated('barrier'));
        const barriers: Record<(typeof patterns)[number], string[]> = {
          'app.installed': [appBarrier.id],
          'app.*': [appBarrier.id],
          '*.created': [createdBarrier.id],
          'app.#': [appBarrier.id],
          '#': [appBarrier.id, createdBarrier.id],
        };
        await waitFor(
          () => patterns.every((p) => barriers[p].every((id) => recorders.get(p)!.has(id))),
          'every subscription to receive its barrier',
        );

        const expected: Record<(typeof patterns)[number], string[]> = {
          'app.installed': [installed.id, appBarrier.id],
          'app.*': [installed.id, registered.id, appBarrier.id],
          '*.created': [userCreated.id, sessionCreated.id, createdBarrier.id],
          'app.#': [installed.id, registered.id, appBarrier.id],
          '#': [installed.id, registered.id, userCreated.id, sessionCreated.id, settingsUpdated.id, appBarrier.id, createdBarrier.id],
        };
        for (const pattern of patterns) {
          expect({ pattern, ids: recorders.get(pattern)!.ids().sort() }).toEqual({ pattern, ids: [...expected[pattern]].sort() });
        }
      });

      it('keeps namespaces apart, so parallel test runs on one broker never see each other', async () => {
        const { bus } = await harness.start();
        const other = createHarness();
        try {
          const { bus: otherBus } = await other.start();
          const foreign = new Recorder();
          await otherBus.subscribe('#', foreign.handle);
          const mine = new Recorder();
          await bus.subscribe('#', mine.handle);

          await bus.publish('app.installed', payloads.appInstalled('mine'));
          const otherBarrier = await otherBus.publish('app.installed', payloads.appInstalled('theirs'));
          await waitFor(() => foreign.has(otherBarrier.id) && mine.events.length === 1, 'both namespaces to deliver');
          expect(foreign.ids()).toEqual([otherBarrier.id]);
        } finally {
          await other.stopAll();
        }
      });
    });

    describe('publishing', () => {
      it('wraps the payload in a CloudEvents-aligned envelope', async () => {
        const { bus } = await harness.start();
        const received = new Recorder();
        await bus.subscribe('app.installed', received.handle);
        const payload = payloads.appInstalled('envelope');

        const published = await bus.publish('app.installed', payload, { metadata: { origin: 'test' } });
        await waitFor(() => received.events.length === 1, 'the event to arrive');

        const [event] = received.events;
        expect(event).toEqual(published);
        expect(event).toMatchObject({
          type: 'app.installed',
          specversion: '1.0',
          datacontenttype: 'application/json',
          source: 'appserver/test-1',
          aggregateType: 'app',
          aggregateId: payload.appId,
          version: 1,
          correlationId: published.id,
          causationId: null,
          sourceAppId: null,
          sourceAppName: null,
          metadata: { origin: 'test' },
          data: payload,
        });
        expect(event.id).toMatch(UUID_V7);
        expect(Date.parse(event.time)).not.toBeNaN();
      });

      it('hands every handler a frozen envelope, and leaves the publisher’s payload object alone', async () => {
        const { bus } = await harness.start();
        const first = new Recorder();
        const second = new Recorder();
        const mutationErrors: unknown[] = [];
        await bus.subscribe('settings.updated', (event) => {
          first.handle(event);
          try {
            (event.data.changedKeys as string[]).push('sneaked-in');
          } catch (error) {
            mutationErrors.push(error);
          }
        });
        await bus.subscribe('settings.updated', second.handle);
        const payload = payloads.settingsUpdated('de.test.frozen', 2);

        const published = await bus.publish('settings.updated', payload);
        await waitFor(() => first.events.length === 1 && second.events.length === 1, 'both handlers to get the event');

        for (const event of [published, first.events[0], second.events[0]]) {
          expect(Object.isFrozen(event)).toBe(true);
          expect(Object.isFrozen(event.data)).toBe(true);
          expect(Object.isFrozen(event.metadata)).toBe(true);
          expect(Object.isFrozen((event.data as { changedKeys: string[] }).changedKeys)).toBe(true);
        }
        expect(mutationErrors).toHaveLength(1);
        expect(mutationErrors[0]).toBeInstanceOf(TypeError);
        expect(second.events[0].data).toEqual(payloads.settingsUpdated('de.test.frozen', 2));
        // The publisher may go on using its own object.
        expect(Object.isFrozen(payload)).toBe(false);
        payload.changedKeys.push('after-publish');
        expect(second.events[0].data).toEqual(published.data);
        expect(published.data).not.toBe(payload);
      });

      it('delivers what a JSON round trip would: undefined fields are dropped on both transports', async () => {
        const { bus } = await harness.start();
        const received = new Recorder();
        await bus.subscribe('settings.deleted', received.handle);

        await bus.publish('settings.deleted', { appName: 'de.test.json', reason: undefined });
        await waitFor(() => received.events.length === 1, 'the event to arrive');

        expect(Object.keys(received.events[0].data)).toEqual(['appName']);
      });

      it('carries the correlation id and makes the handled event the cause of what its handler publishes', async () => {
        const { bus } = await harness.start();
        const reactions = new Recorder();
        await bus.subscribe('app.installed', async (event) => {
          await bus.publish('settings.registered', { appName: event.data.appName, version: 1 });
        });
        await bus.subscribe('settings.registered', reactions.handle);

        const cause = await bus.publish('app.installed', payloads.appInstalled('causal'), { correlationId: 'request-42' });
        await waitFor(() => reactions.events.length === 1, 'the reaction to arrive');

        expect(reactions.events[0]).toMatchObject({ correlationId: 'request-42', causationId: cause.id });
      });

      it('rejects an invalid payload with the field and the reason, and publishes nothing', async () => {
        const { bus } = await harness.start();
        const received = new Recorder();
        await bus.subscribe('#', received.handle);

        const bad = { ...payloads.appInstalled('bad'), appId: 'not-a-uuid', version: 'one' };
        const attempt = bus.publish('app.installed', bad);
        await expect(attempt).rejects.toBeInstanceOf(EventValidationError);
        await expect(attempt).rejects.toThrow(/appId: appId must be a UUID/);
        await expect(attempt).rejects.toThrow(/version: version must be a semantic version/);
        await expect(
          // @ts-expect-error an unknown event type does not compile
          bus.publish('app.exploded', payloads.appInstalled('x')),
        ).rejects.toThrow(/unknown event type/);
        await expect(
          // @ts-expect-error a payload of another event type does not compile
          bus.publish('user.created', payloads.appInstalled('y')),
        ).rejects.toThrow(EventValidationError);

        const barrier = await bus.publish('app.installed', payloads.appInstalled('barrier'));
        await waitFor(() => received.has(barrier.id), 'the barrier');
        expect(received.ids()).toEqual([barrier.id]);
      });

      it('validates the payload as it will travel: getters, inherited fields and toJSON count for nothing', async () => {
        const { bus } = await harness.start();
        const received = new Recorder();
        await bus.subscribe('#', received.handle);
        const valid = payloads.appInstalled('as-delivered');

        class WithGetters {
          get appId() {
            return valid.appId;
          }
          get appName() {
            return valid.appName;
          }
          get version() {
            return valid.version;
          }
          get installedAt() {
            return valid.installedAt;
          }
        }
        const inherited = Object.create(valid) as typeof valid;
        const serialisedElsewise = { ...valid, toJSON: () => ({ appId: valid.appId }) };

        for (const payload of [new WithGetters(), inherited, serialisedElsewise]) {
          await expect(bus.publish('app.installed', payload as typeof valid)).rejects.toThrow(/appName: appName should not be empty|must be a string/);
        }
        const sparse = { appName: 'de.test.sparse', changedKeys: ['theme', , 'lang'] as string[], updatedBy: 'tester', version: 2 };
        await expect(bus.publish('settings.updated', sparse)).rejects.toThrow(/changedKeys: each value in changedKeys must be a string/);

        const barrier = await bus.publish('app.installed', valid);
        await waitFor(() => received.has(barrier.id), 'the barrier');
        expect(received.ids()).toEqual([barrier.id]);
      });

      it('refuses publish options that would make an invalid envelope, before anything is sent', async () => {
        const { bus } = await harness.start();
        const received = new Recorder();
        await bus.subscribe('#', received.handle);

        await expect(bus.publish('app.installed', payloads.appInstalled('empty-aggregate'), { aggregateId: '' })).rejects.toThrow(
          /aggregateId must be a non-empty string/,
        );
        await expect(
          bus.publish('app.installed', payloads.appInstalled('numeric-metadata'), { metadata: { retries: 3 } as unknown as Record<string, string> }),
        ).rejects.toThrow(/metadata values must be strings/);

        const barrier = await bus.publish('app.installed', payloads.appInstalled('barrier'));
        await waitFor(() => received.has(barrier.id), 'the barrier');
        expect(received.ids()).toEqual([barrier.id]);
      });

      it('publishes a batch with publishAll', async () => {
        const { bus } = await harness.start();
        const received = new Recorder();
        await bus.subscribe('#', received.handle);

        const envelopes = await bus.publishAll([
          { type: 'app.registered', payload: payloads.appRegistered('batch') },
          { type: 'user.created', payload: payloads.userCreated('batch') },
        ]);
        await waitFor(() => received.events.length === 2, 'the batch');
        expect(received.ids().sort()).toEqual(envelopes.map((e) => e.id).sort());
      });
    });

    describe('delivery modes', () => {
      it('broadcast: every instance receives every event', async () => {
        const a = await harness.start();
        const b = await harness.start();
        const onA = new Recorder();
        const onB = new Recorder();
        await a.bus.subscribe('app.*', onA.handle);
        await b.bus.subscribe('app.*', onB.handle);

        const published: string[] = [];
        for (let i = 0; i < 20; i++) published.push((await a.bus.publish('app.installed', payloads.appInstalled(`b${i}`))).id);
        await waitFor(() => onA.events.length >= 20 && onB.events.length >= 20, 'both instances to receive all 20');

        expect(onA.ids().sort()).toEqual([...published].sort());
        expect(onB.ids().sort()).toEqual([...published].sort());
      });

      it('group: each event is handled exactly once across competing instances', async () => {
        const a = await harness.start();
        const b = await harness.start();
        const onA = new Recorder();
        const onB = new Recorder();
        await a.bus.subscribe('app.installed', onA.handle, { group: 'work', prefetch: 5 });
        await b.bus.subscribe('app.installed', onB.handle, { group: 'work', prefetch: 5 });

        const published = (
          await a.bus.publishAll(Array.from({ length: 200 }, (_, i) => ({ type: 'app.installed' as const, payload: payloads.appInstalled(`g${i}`) })))
        ).map((e) => e.id);
        const barrier = await a.bus.publish('app.installed', payloads.appInstalled('barrier'));
        await waitFor(() => onA.has(barrier.id) || onB.has(barrier.id), 'the barrier', {
          describe: () => `A ${onA.events.length}, B ${onB.events.length}`,
        });
        await waitFor(() => onA.events.length + onB.events.length === 201, 'all handlers to have run');

        const all = [...onA.ids(), ...onB.ids()];
        expect(new Set(all).size).toBe(all.length);
        expect(all.sort()).toEqual([...published, barrier.id].sort());
        expect(onA.events.length).toBeGreaterThan(0);
        expect(onB.events.length).toBeGreaterThan(0);
      });

      it('rejects a second subscription of the same group on one bus', async () => {
        const { bus } = await harness.start();
        await bus.subscribe('app.*', () => undefined, { group: 'single' });
        await expect(bus.subscribe('user.*', () => undefined, { group: 'single' })).rejects.toThrow(/Group "single" already has a subscription/);
      });

      it('unsubscribe stops delivery to that handler only', async () => {
        const { bus } = await harness.start();
        const gone = new Recorder();
        const staying = new Recorder();
        const subscription = await bus.subscribe('app.installed', gone.handle);
        await bus.subscribe('app.installed', staying.handle);
        await bus.unsubscribe(subscription);

        const event = await bus.publish('app.installed', payloads.appInstalled('after'));
        await waitFor(() => staying.has(event.id), 'the remaining subscription');
        expect(gone.events).toHaveLength(0);
      });

      it('subscribes @OnEvent methods of providers at bootstrap, bound to their instance', async () => {
        @Injectable()
        class AppWatcher {
          readonly seen: string[] = [];

          @OnEvent('app.*')
          recordAppEvent(event: EnvelopeFor<'app.*'>): void {
            this.seen.push(event.data.appName);
          }
        }
        const { app, bus } = await harness.start({ providers: [AppWatcher] });
        await bus.publish('app.registered', payloads.appRegistered('decorated'));
        const watcher = app.get(AppWatcher);
        await waitFor(() => watcher.seen.length === 1, 'the decorated handler');
        expect(watcher.seen).toEqual(['de.test.decorated']);
      });
    });

    describe('failure policy', () => {
      it('retries with backoff, then succeeds', async () => {
        const { bus } = await harness.start();
        const attempts: number[] = [];
        const handled = new Recorder();
        const subscription = await bus.subscribe(
          'app.installed',
          async (event) => {
            attempts.push(Date.now());
            if (attempts.length < 3) throw new Error(`transient failure ${attempts.length}`);
            handled.handle(event);
          },
          { maxRetries: 3, retryDelayMs: 40 },
        );

        const event = await bus.publish('app.installed', payloads.appInstalled('flaky'));
        await waitFor(() => handled.has(event.id), 'the third attempt to succeed');

        expect(attempts).toHaveLength(3);
        // Equal jitter keeps at least half of each step: >= 20 ms, then >= 40 ms.
        expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(20 - 2);
        expect(attempts[2] - attempts[1]).toBeGreaterThanOrEqual(40 - 2);
        expect(await bus.deadLetters(subscription)).toHaveLength(0);
      });

      it('awaits a handler that returns any thenable: a rejected one is retried like a failing handler', async () => {
        const { bus } = await harness.start();
        let calls = 0;
        const handled = new Recorder();
        await bus.subscribe(
          'app.installed',
          (event) => {
            calls++;
            const outcome = calls < 2 ? Promise.reject(new Error('not yet')) : Promise.resolve(handled.handle(event));
            // A PromiseLike that is not a native promise, as some libraries return.
            return { then: (onFulfilled: () => void, onRejected: (error: unknown) => void) => outcome.then(onFulfilled, onRejected) } as unknown as Promise<void>;
          },
          { maxRetries: 2, retryDelayMs: 10 },
        );

        const event = await bus.publish('app.installed', payloads.appInstalled('thenable'));
        await waitFor(() => handled.has(event.id), 'the retry to succeed');
        expect(calls).toBe(2);
      });

      it('dead-letters after the last retry, with headers that say why', async () => {
        const { bus } = await harness.start();
        let calls = 0;
        const subscription = await bus.subscribe(
          'app.installed',
          () => {
            calls++;
            throw new Error('database is on fire');
          },
          { group: 'doomed', name: 'DoomedHandler', maxRetries: 2 },
        );

        const event = await bus.publish('app.installed', payloads.appInstalled('doomed'));
        await waitFor(async () => (await bus.deadLetters(subscription)).length === 1, 'the dead letter');

        const [letter] = await bus.deadLetters(subscription);
        expect(calls).toBe(3);
        expect(letter).toMatchObject({
          failureKind: 'retries-exhausted',
          error: 'database is on fire',
          attempts: 3,
          handler: 'DoomedHandler',
          originalRoutingKey: 'app.installed',
          originalQueue: subscription.queue,
        });
        expect(letter.envelope?.id).toBe(event.id);
        expect(Date.parse(letter.firstFailureAt)).toBeLessThanOrEqual(Date.parse(letter.lastFailureAt));
        expect(Date.parse(letter.lastFailureAt) - Date.parse(letter.firstFailureAt)).toBeGreaterThan(0);
      });

      it('dead-letters a NonRetryableError at once', async () => {
        const { bus } = await harness.start();
        let calls = 0;
        const subscription = await bus.subscribe(
          'app.installed',
          () => {
            calls++;
            throw new NonRetryableError('this app can never be installed');
          },
          { group: 'strict' },
        );
        await bus.publish('app.installed', payloads.appInstalled('never'));
        await waitFor(async () => (await bus.deadLetters(subscription)).length === 1, 'the dead letter');

        expect(calls).toBe(1);
        expect((await bus.deadLetters(subscription))[0]).toMatchObject({ failureKind: 'non-retryable', attempts: 1, error: 'this app can never be installed' });
      });

      it('dead-letters garbage bytes at once and keeps consuming', async () => {
        const { bus } = await harness.start();
        const handled = new Recorder();
        const subscription = await bus.subscribe('app.installed', handled.handle, { group: 'sturdy' });

        await harness.injectRaw(subscription.queue, Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x13, 0x37]));
        const after = await bus.publish('app.installed', payloads.appInstalled('after-garbage'));
        await waitFor(() => handled.has(after.id), 'the next valid event');
        await waitFor(async () => (await bus.deadLetters(subscription)).length === 1, 'the dead letter');

        const [letter] = await bus.deadLetters(subscription);
        expect(letter.failureKind).toBe('undecodable');
        expect(letter.error).toMatch(/body is not JSON/);
        expect(letter.attempts).toBe(0);
        expect(letter.envelope).toBeUndefined();
        expect(handled.ids()).toEqual([after.id]);
      });

      it('dead-letters a well-formed envelope whose payload breaks the catalog rules, naming the field', async () => {
        const { bus } = await harness.start();
        const handled = new Recorder();
        const subscription = await bus.subscribe('app.installed', handled.handle, { group: 'validating' });
        const good = bus.createEnvelope('app.installed', payloads.appInstalled('tampered'));
        const tampered = { ...good, data: { ...good.data, appId: 42 } };

        await harness.injectRaw(subscription.queue, Buffer.from(JSON.stringify(tampered)));
        await harness.injectRaw(subscription.queue, Buffer.from(JSON.stringify({ ...good, type: 'app.imploded' })));
        await waitFor(async () => (await bus.deadLetters(subscription)).length === 2, 'two dead letters');

        const letters = await bus.deadLetters(subscription);
        expect(letters.map((l) => l.failureKind).sort()).toEqual(['invalid-payload', 'unknown-type']);
        expect(letters.find((l) => l.failureKind === 'invalid-payload')!.error).toMatch(/appId: appId must be a UUID/);
        expect(handled.events).toHaveLength(0);
      });

      it('a failing handler stops neither its own subscription nor the others', async () => {
        const { bus } = await harness.start();
        const healthy = new Recorder();
        const survivors = new Recorder<EnvelopeFor<'app.installed'>>();
        await bus.subscribe('app.installed', () => Promise.reject(new Error('always failing')), { maxRetries: 0 });
        await bus.subscribe('app.installed', healthy.handle);
        await bus.subscribe(
          'app.installed',
          (event) => {
            if (event.data.appName.endsWith('poison')) throw new NonRetryableError('poison');
            survivors.handle(event);
          },
          { group: 'mixed' },
        );

        const events = [];
        for (const name of ['one', 'poison', 'two', 'poison', 'three']) events.push(await bus.publish('app.installed', payloads.appInstalled(name)));
        await waitFor(() => healthy.events.length === 5 && survivors.events.length === 3, 'every healthy delivery');

        expect(survivors.events.map((e) => e.data.appName)).toEqual(['de.test.one', 'de.test.two', 'de.test.three']);
        expect(bus.health().consuming).toBe(true);
      });
    });

    describe('app-sourced events', () => {
      /** Lets `de.trusted.app` publish `app.installed` only, the way AppServer's permission grants would. */
      class GrantsLikeAuthorizer extends EventSourceAuthorizer {
        readonly asked: string[] = [];
        failuresLeft = 0;

        async authorize(appName: string, eventType: string): Promise<EventSourceVerdict> {
          this.asked.push(`${appName} ${eventType}`);
          if (this.failuresLeft > 0) {
            this.failuresLeft--;
            throw new Error('permission store unreachable');
          }
          if (appName === 'de.trusted.app' && eventType === 'app.installed') return { allowed: true };
          return { allowed: false, reason: `app "${appName}" does not hold permission events.publish on "${eventType}"` };
        }
      }

      it('dead-letters an event whose source app may not publish its type, with the reason, and handles the others', async () => {
        const authorizer = new GrantsLikeAuthorizer();
        const { bus } = await harness.start({ sourceAuthorizer: authorizer });
        const handled = new Recorder();
        const subscription = await bus.subscribe('app.*', handled.handle, { group: 'guarded' });

        const trusted = await bus.publish('app.installed', payloads.appInstalled('trusted'), { sourceAppName: 'de.trusted.app' });
        const rogue = await bus.publish('app.installed', payloads.appInstalled('rogue'), { sourceAppName: 'de.rogue.app' });
        const wrongType = await bus.publish('app.registered', payloads.appRegistered('wrong-type'), { sourceAppName: 'de.trusted.app' });
        const internal = await bus.publish('app.installed', payloads.appInstalled('internal'));
        await waitFor(() => handled.has(trusted.id) && handled.has(internal.id), 'the allowed events');
        await waitFor(async () => (await bus.deadLetters(subscription)).length === 2, 'two dead letters');

        expect(handled.ids().sort()).toEqual([trusted.id, internal.id].sort());
        const letters = await bus.deadLetters(subscription);
        expect(letters.map((letter) => letter.envelope?.id).sort()).toEqual([rogue.id, wrongType.id].sort());
        expect(letters.find((letter) => letter.envelope?.id === rogue.id)).toMatchObject({
          failureKind: 'unauthorized-source',
          error: 'app "de.rogue.app" does not hold permission events.publish on "app.installed"',
          attempts: 0,
          originalRoutingKey: 'app.installed',
          originalQueue: subscription.queue,
        });
        expect(letters.find((letter) => letter.envelope?.id === wrongType.id)!.error).toMatch(/events\.publish on "app\.registered"/);
        // Events the server publishes itself name no app and are never put to the authorizer.
        expect(authorizer.asked.sort()).toEqual(['de.rogue.app app.installed', 'de.trusted.app app.installed', 'de.trusted.app app.registered']);
      });

      it('dead-letters every app-sourced event when no authorizer is registered, and still handles the rest', async () => {
        const { bus } = await harness.start();
        const handled = new Recorder();
        const subscription = await bus.subscribe('app.installed', handled.handle, { group: 'unvouched' });

        const claimed = await bus.publish('app.installed', payloads.appInstalled('claimed'), { sourceAppName: 'de.any.app' });
        const internal = await bus.publish('app.installed', payloads.appInstalled('internal'));
        await waitFor(() => handled.has(internal.id), 'the internal event');
        await waitFor(async () => (await bus.deadLetters(subscription)).length === 1, 'the dead letter');

        expect(handled.ids()).toEqual([internal.id]);
        const [letter] = await bus.deadLetters(subscription);
        expect(letter).toMatchObject({ failureKind: 'unauthorized-source', attempts: 0 });
        expect(letter.envelope?.id).toBe(claimed.id);
        expect(letter.error).toMatch(/no EventSourceAuthorizer is registered/);
      });

      it('retries an event whose source could not be checked, like a failing handler, then handles it', async () => {
        const authorizer = new GrantsLikeAuthorizer();
        authorizer.failuresLeft = 2;
        const { bus } = await harness.start({ sourceAuthorizer: authorizer });
        const handled = new Recorder();
        const subscription = await bus.subscribe('app.installed', handled.handle, { group: 'checked-later', maxRetries: 3, retryDelayMs: 20 });

        const event = await bus.publish('app.installed', payloads.appInstalled('later'), { sourceAppName: 'de.trusted.app' });
        await waitFor(() => handled.has(event.id), 'the event after two failed checks');

        expect(authorizer.asked).toEqual(Array(3).fill('de.trusted.app app.installed'));
        expect(await bus.deadLetters(subscription)).toHaveLength(0);
      });
    });

    describe('concurrency', () => {
      it('never runs more handlers of one subscription than its prefetch', async () => {
        const { bus } = await harness.start();
        const gate = new Gate();
        let running = 0;
        let peak = 0;
        let done = 0;
        await bus.subscribe(
          'app.installed',
          async () => {
            running++;
            peak = Math.max(peak, running);
            await gate.opened;
            running--;
            done++;
          },
          { group: 'bounded', prefetch: 3 },
        );
        const observer = new Recorder();
        await bus.subscribe('app.installed', observer.handle);

        await bus.publishAll(Array.from({ length: 10 }, (_, i) => ({ type: 'app.installed' as const, payload: payloads.appInstalled(`c${i}`) })));
        // The observer seeing all ten means all ten reached the broker while three handlers are blocked.
        await waitFor(() => observer.events.length === 10 && running === 3, 'three blocked handlers');
        expect(peak).toBe(3);

        gate.open();
        await waitFor(() => done === 10, 'all ten to finish');
        expect(peak).toBe(3);
      });

      it('orders events per aggregate when asked, while different aggregates run side by side', async () => {
        const { bus } = await harness.start();
        const seen = new Map<string, number[]>();
        let running = 0;
        let peak = 0;
        await bus.subscribe(
          'settings.updated',
          async (event) => {
            running++;
            peak = Math.max(peak, running);
            // Later events finish sooner: without per-aggregate order they would overtake.
            await new Promise((resolve) => setTimeout(resolve, 30 - event.data.version * 2));
            seen.set(event.data.appName, [...(seen.get(event.data.appName) ?? []), event.data.version]);
            running--;
          },
          { group: 'ordered', prefetch: 30, orderByAggregate: true },
        );

        const requests = [];
        for (let version = 1; version <= 10; version++) {
          for (const app of ['de.a.app', 'de.b.app', 'de.c.app']) {
            requests.push({ type: 'settings.updated' as const, payload: payloads.settingsUpdated(app, version) });
          }
        }
        await bus.publishAll(requests);
        await waitFor(() => [...seen.values()].reduce((n, list) => n + list.length, 0) === 30, 'all 30 events');

        const inOrder = Array.from({ length: 10 }, (_, i) => i + 1);
        expect(Object.fromEntries(seen)).toEqual({ 'de.a.app': inOrder, 'de.b.app': inOrder, 'de.c.app': inOrder });
        expect(peak).toBeGreaterThan(1);
      });
    });

    describe('connection loss', () => {
      it('resumes every consumer after the connections are cut in the middle of 1,000 events, losing none', async () => {
        const { bus } = await harness.start();
        const worked = new Set<string>();
        const broadcast = new Set<string>();
        const reconnected = jest.fn();
        bus.onReconnect(reconnected);
        await bus.subscribe(
          'app.installed',
          async (event) => {
            await new Promise((resolve) => setImmediate(resolve));
            worked.add(event.id);
          },
          { group: 'stream', prefetch: 20 },
        );
        await bus.subscribe('app.installed', (event) => void broadcast.add(event.id));

        const published = new Set<string>();
        let cut: Promise<void> | undefined;
        for (let batch = 0; batch < 20; batch++) {
          const envelopes = await bus.publishAll(
            Array.from({ length: 50 }, (_, i) => ({ type: 'app.installed' as const, payload: payloads.appInstalled(`s${batch}-${i}`) })),
          );
          for (const envelope of envelopes) published.add(envelope.id);
          if (!cut && worked.size >= 300) cut = harness.cutConnections();
          if (!cut && batch === 9) {
            await waitFor(() => worked.size >= 300, '300 handled before the cut');
            cut = harness.cutConnections();
          }
        }
        await cut;

        await waitFor(() => worked.size === 1000 && broadcast.size === 1000, 'all 1,000 events on both subscriptions', {
          timeoutMs: 60_000,
          describe: () => `group ${worked.size}, broadcast ${broadcast.size}`,
        });
        expect([...worked].every((id) => published.has(id))).toBe(true);
        // The cut may land after the last event was handled; the reconnection (and its notification) follows it.
        await waitFor(() => reconnected.mock.calls.length > 0, 'the reconnection to be announced');
        await waitFor(() => bus.health().consuming, 'health to report consuming again');
      });

      it('a publish during the outage waits for the reconnection instead of failing or dropping', async () => {
        const { bus } = await harness.start();
        const received = new Recorder();
        await bus.subscribe('app.installed', received.handle, { group: 'patient' });

        await harness.cutConnections();
        const event = await bus.publish('app.installed', payloads.appInstalled('during-outage'));
        await waitFor(() => received.has(event.id), 'the event published during the outage');
      });
    });

    describe('graceful shutdown', () => {
      it('finishes handlers in flight, starts no new ones and leaves the rest for another instance', async () => {
        const first = await harness.start();
        const gate = new Gate();
        const started: string[] = [];
        const finished: string[] = [];
        await first.bus.subscribe(
          'app.installed',
          async (event) => {
            started.push(event.id);
            await gate.opened;
            finished.push(event.id);
          },
          { group: 'shutdown', prefetch: 4 },
        );
        const published = (
          await first.bus.publishAll(Array.from({ length: 10 }, (_, i) => ({ type: 'app.installed' as const, payload: payloads.appInstalled(`d${i}`) })))
        ).map((e) => e.id);
        await waitFor(() => started.length === 4, 'four handlers in flight');

        let closed = false;
        const closing = first.app.close().then(() => (closed = true));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(closed).toBe(false);
        gate.open();
        await closing;
        expect(finished.sort()).toEqual([...started].sort());
        expect(started).toHaveLength(4);

        const second = await harness.start();
        const rest = new Recorder();
        await second.bus.subscribe('app.installed', rest.handle, { group: 'shutdown' });
        await waitFor(() => rest.events.length === 6, 'the six unhandled events on the next instance');
        expect([...finished, ...rest.ids()].sort()).toEqual([...published].sort());
      });
    });
  });
}

if (!isAvailable('rabbitmq')) {
  // Visible in the jest output next to the skipped block, in case the global-setup line scrolled away.
  describe('EventBus contract (rabbitmq)', () => {
    it.todo('needs RabbitMQ on 127.0.0.1:5672');
  });
}

export type { EventBus, Subscription };
