/**
 * GuardService rounds against the real Redis, with a fake telemetry source (it counts calls and
 * can fail): one call per distinct metric and window a round, each round applied once even when
 * two processes run it at the same time or it is retried, and an outage changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DateTime, type Duration } from 'luxon';
import pino from 'pino';
import type { Feature, MetricRef } from '../../../src/domain/model';
import { parseExpectation } from '../../../src/domain/parse-expectation';
import { Effects } from '../../../src/jobs/effects';
import { QUEUE_NAME } from '../../../src/jobs/queue';
import type { SlackPort } from '../../../src/slack/port';
import { FeatureStore } from '../../../src/store/feature-store';
import { bullPrefix } from '../../../src/store/keys';
import { Marks } from '../../../src/store/marks';
import { MeasurementCache } from '../../../src/telemetry/measurement-cache';
import { Telemetry } from '../../../src/telemetry/telemetry';
import {
  type Measurement,
  type TelemetrySource,
  TelemetryUnavailableError,
} from '../../../src/telemetry/types';
import { GuardService, guardKey } from '../../../src/usecases/guard-service';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const START = DateTime.fromISO('2026-06-01T09:00:00Z', { zone: 'utc' });
const INTERVAL = 300_000;

/** A Prometheus-like source whose value per metric name the test sets; `down` fails every call. */
class FakeSource implements TelemetrySource {
  readonly name = 'prometheus' as const;
  calls: string[] = [];
  down = false;
  values = new Map<string, number>();
  async valueOver(metric: MetricRef, window: Duration, at: DateTime): Promise<Measurement> {
    const name = metric.source === 'prometheus' ? metric.name : '';
    this.calls.push(`${name}|${window.as('seconds')}|${at.toISO()}`);
    if (this.down) throw new TelemetryUnavailableError('prometheus', 'fetch failed');
    await new Promise((r) => setTimeout(r, 5));
    return { value: this.values.get(name) ?? null, query: name };
  }
  series(): never {
    throw new Error('not used');
  }
  exists(): Promise<boolean> {
    return Promise.resolve(true);
  }
  firstUseAfter(): never {
    throw new Error('not used');
  }
  list(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

const prefix = `test:${randomUUID()}:`;
const connections: Redis[] = [];
const queues: Queue[] = [];
const source = new FakeSource();

function service(clock: { now: DateTime }): GuardService {
  const redis = new Redis(REDIS_URL);
  const queueRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(redis, queueRedis);
  const queue = new Queue(QUEUE_NAME, { connection: queueRedis, prefix: bullPrefix(prefix) });
  queues.push(queue);
  const store = new FeatureStore(redis, prefix);
  const poster = {} as SlackPort;
  return new GuardService({
    store,
    telemetry: new Telemetry([source], [], new MeasurementCache(redis, prefix)),
    queue: queue as never,
    redis,
    prefix,
    jobPoster: poster,
    poster,
    effects: new Effects(new Marks(redis, prefix), redis, prefix),
    admins: [],
    intervalMs: INTERVAL,
    log: pino({ level: 'silent' }),
    now: () => clock.now,
  });
}

afterAll(async () => {
  await queues[0]?.obliterate({ force: true });
  for (const q of queues) await q.close();
  const keys = await connections[0]!.keys(`${prefix}*`);
  if (keys.length > 0) await connections[0]!.del(...keys);
  for (const c of connections) c.disconnect();
});

it('one call per distinct metric and window; two processes and a retry apply each round once; an outage changes nothing', async () => {
  const clock = { now: START };
  const a = service(clock);
  const b = service(clock);
  const store = new FeatureStore(connections[0]!, prefix);
  const expectation = parseExpectation(
    'orders_total >= 10 per week within 30 days guard error_ratio < 2% guard latency_seconds < 0.5',
  );
  if (!expectation.ok) throw new Error(expectation.error);
  for (let i = 0; i < 3; i++) {
    await store.create('T1', () => ({
      title: `F${i}`,
      ownerId: 'U1',
      proposedBy: 'U1',
      status: 'launched',
      createdAt: START.minus({ days: 2 }).toISO()!,
      channel: 'C1',
      cardTs: `1.${i}`,
      expectation: expectation.value,
      launchedAt: START.minus({ days: 1 }).toISO()!,
    }));
  }
  source.values.set('error_ratio', 0.05).set('latency_seconds', 0.2);
  const round = async (n: number) => {
    clock.now = START.plus({ milliseconds: n * INTERVAL });
    source.calls = [];
    return Promise.all([a.round(), b.round()]);
  };

  // Round 1: 3 features × 2 guards, 2 distinct measurements; one bad reading: no event.
  const [first] = await round(0);
  expect(first).toMatchObject({ features: 3, guards: 6, queries: 2, events: 0 });
  // Each process asks each distinct measurement at most once (the Redis cache usually spares the second).
  expect(new Set(source.calls).size).toBe(2);
  expect(source.calls.length).toBeLessThanOrEqual(4);

  // Round 2: the second bad reading. Both processes run it: three breach jobs in all, not six.
  await round(1);
  const events = async () =>
    (await queues[0]!.getJobs(['waiting', 'delayed'])).filter((j) => j.name === 'guard-event');
  expect((await events()).map((j) => j.id).sort()).toEqual(
    ['F-1', 'F-2', 'F-3'].map(
      (id) => `guard-event__T1__${id}__${guardKey({ text: 'error_ratio < 2% over 1h' })}__1__breach`,
    ),
  );
  const f1 = (await store.get('T1', 'F-1')) as Feature;
  expect(await a.breachedOf(f1)).toEqual(['error_ratio < 2% over 1h']);

  // A retry of round 2 changes nothing (the same three jobs, state unchanged).
  const before = await a.statesOf(f1);
  await a.round(START.plus({ milliseconds: INTERVAL }).toMillis());
  expect(await events()).toHaveLength(3);
  expect(await a.statesOf(f1)).toEqual(before);

  // An outage: two rounds that cannot measure leave the state as it was, breached.
  source.down = true;
  const [during] = await round(2);
  expect(during.outages).toBe(2);
  await round(3);
  expect(await a.statesOf(f1)).toEqual(before);
  expect(await a.breachedOf(f1)).toEqual(['error_ratio < 2% over 1h']);

  // Back, healthy twice: recovered once.
  source.down = false;
  source.values.set('error_ratio', 0.01);
  await round(4);
  await round(5);
  expect((await events()).filter((j) => j.id?.endsWith('recovered'))).toHaveLength(3);
  expect(await a.breachedOf(f1)).toEqual([]);
});
