/**
 * Vendor limits and circuit breakers shared by every process through Redis. Two clients with
 * their own ioredis connections on one key prefix stand for two donedone processes; one test
 * runs a real second process.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { DateTime, Duration } from 'luxon';
import { HoneycombClient } from '../../../src/telemetry/honeycomb-client';
import { PostHogClient, type PostHogLimits } from '../../../src/telemetry/posthog-client';
import { createResilientFetch } from '../../../src/telemetry/resilient-fetch';
import { TelemetryUnavailableError } from '../../../src/telemetry/types';
import {
  fakeTime,
  type RecordedRequest,
  type StandIn,
  type StandInReply,
  startStandIn,
} from '../../support/vendor-stand-ins';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const API_KEY = 'phx_SECRETsharedKEY';
const HC_KEY = 'hcaik_SECRETsharedKEY';
const AT = DateTime.fromISO('2026-01-15T12:00:00Z', { zone: 'utc' });
const WEEK = Duration.fromObject({ weeks: 1 });
const DAY = Duration.fromObject({ days: 1 });
const EVENT = { source: 'posthog' as const, event: 'export.done' };

let server: StandIn;
let prefix: string;
let time: ReturnType<typeof fakeTime>;
const connections: Redis[] = [];

/** A Redis connection of its own: one per "process". */
function connection(): Redis {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  connections.push(r);
  return r;
}

function hogqlRow(value: number): StandInReply {
  return { json: { results: [[value]], columns: ['c0'], hasMore: false, limit: 100, offset: 0 } };
}

/** One PostHog client as one process would build it: its own Redis connection, the shared prefix. */
function posthog(limits: Partial<PostHogLimits> = {}, redis: Redis = connection()) {
  return new PostHogClient({
    baseUrl: server.url,
    apiKey: API_KEY,
    projectId: '7',
    shared: { redis, prefix },
    limits,
    resilience: { sleep: time.sleep, now: time.now, retries: 0 },
  });
}

function queries(): RecordedRequest[] {
  return server.requests.filter((r) => r.method === 'POST' && r.path === '/api/projects/7/query/');
}

async function failure(promise: Promise<unknown>): Promise<TelemetryUnavailableError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TelemetryUnavailableError))
    throw new Error(`expected TelemetryUnavailableError, got ${err}`);
  expect(err.message).not.toContain('SECRET');
  return err;
}

beforeEach(async () => {
  server = await startStandIn(() => hogqlRow(5));
  prefix = `test:${randomUUID()}:`;
  time = fakeTime(AT.toMillis());
});

afterEach(async () => {
  await server.close();
  const cleaner = connections[0];
  if (cleaner) {
    const keys = await cleaner.keys(`${prefix}*`);
    if (keys.length > 0) await cleaner.del(...keys);
  }
  await Promise.all(connections.splice(0).map((r) => r.quit()));
});

describe('PostHog limits shared by two processes', () => {
  it('holds N queries a minute across both: the N+1-th is refused, saying when to retry', async () => {
    const perMinute = 4;
    const a = posthog({ queriesPerMinute: perMinute });
    const b = posthog({ queriesPerMinute: perMinute });
    for (let i = 0; i < perMinute; i++) {
      expect((await (i % 2 === 0 ? a : b).valueOver(EVENT, WEEK, AT)).value).toBe(5);
    }
    const err = await failure(b.valueOver(EVENT, WEEK, AT));
    expect(err.message).toMatch(
      new RegExp(
        `^posthog: not called: rate limit reached \\(${perMinute} queries a minute, shared by every donedone process\\); the next try is in (59|60) s$`,
      ),
    );
    expect(err.retryAfterMs).toBeGreaterThan(58_000);
    await failure(a.valueOver(EVENT, WEEK, AT));
    expect(queries()).toHaveLength(perMinute);
    // Each process alone would have let both through: the count lives in Redis.
  });

  it('enforces the hourly cap as well as the minute one', async () => {
    const perHour = 3;
    const a = posthog({ queriesPerMinute: 100, queriesPerHour: perHour });
    const b = posthog({ queriesPerMinute: 100, queriesPerHour: perHour });
    await a.valueOver(EVENT, WEEK, AT);
    await b.valueOver(EVENT, WEEK, AT);
    await a.valueOver(EVENT, WEEK, AT);
    const err = await failure(b.valueOver(EVENT, WEEK, AT));
    expect(err.message).toMatch(
      /rate limit reached \(3 queries an hour, shared by every donedone process\); the next try is in (3599|3600) s$/,
    );
    expect(queries()).toHaveLength(perHour);
    // A query refused by the hour did not use up the minute: it still shows 3 taken of 100.
    const minuteKey = (await connections[0]?.keys(`${prefix}limits:{posthog}:rate:100per60s*`)) ?? [];
    expect(minuteKey).toHaveLength(1);
    expect(await connections[0]?.get(minuteKey[0] ?? '')).toBe(String(perHour));
  });

  it('keeps at most `concurrentQueries` in flight across both', async () => {
    let inFlight = 0;
    let most = 0;
    server.answer(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 60));
      inFlight -= 1;
      return hogqlRow(5);
    });
    const a = posthog({ concurrentQueries: 2 });
    const b = posthog({ concurrentQueries: 2 });
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).valueOver(EVENT, WEEK, AT)),
    );
    expect(all.map((m) => m.value)).toEqual(Array(8).fill(5));
    expect(most).toBe(2);
    // Every slot was given back.
    expect(await connections[0]?.keys(`${prefix}limits:{posthog}:slot*`)).toEqual([]);
  });

  it('keeps its keys under the app prefix, with one hash tag for the vendor', async () => {
    const a = posthog();
    await a.valueOver(EVENT, WEEK, AT);
    const keys = (await connections[0]?.keys(`${prefix}*`)) ?? [];
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`${prefix}limits:{posthog}:`)).toBe(true);
  });

  it('holds the limit against a real second process', async () => {
    const a = posthog({ queriesPerMinute: 3 });
    await a.valueOver(EVENT, WEEK, AT);
    await a.valueOver(EVENT, WEEK, AT);
    const script = join(__dirname, '..', '..', 'support', 'limits-child.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', script],
      {
        env: { ...process.env, REDIS_URL, LIMITS_PREFIX: prefix, POSTHOG_URL: server.url, CALLS: '2' },
        timeout: 30_000,
      },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('ok 5');
    expect(lines[1]).toMatch(/^refused posthog: not called: rate limit reached \(3 queries a minute/);
    expect(queries()).toHaveLength(3);
  });
});

describe('when Redis fails', () => {
  it('still keeps to the limit in this process, and logs why', async () => {
    // Nothing listens on port 1: every command fails at once.
    const broken = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    broken.on('error', () => undefined);
    const warnings: string[] = [];
    const c = new PostHogClient({
      baseUrl: server.url,
      apiKey: API_KEY,
      projectId: '7',
      shared: { redis: broken, prefix },
      limits: { queriesPerMinute: 2 },
      log: { warn: (_fields, message) => warnings.push(message) },
      resilience: { sleep: time.sleep, now: time.now, retries: 0 },
    });
    expect((await c.valueOver(EVENT, WEEK, AT)).value).toBe(5);
    expect((await c.valueOver(EVENT, WEEK, AT)).value).toBe(5);
    const err = await failure(c.valueOver(EVENT, WEEK, AT));
    expect(err.message).toMatch(/rate limit reached \(2 queries a minute/);
    expect(queries()).toHaveLength(2);
    expect(warnings).toContain('posthog: could not read or write the shared circuit breaker');
    broken.disconnect();
  });
});

describe('short waits are waited, across processes', () => {
  it('holds the N+1-th call of a one-second window until the next one', async () => {
    const t: string[] = [];
    const fetchOk = (async (input: string | URL | Request) => {
      t.push(String(input instanceof Request ? input.url : input));
      return new Response('{}', { status: 200 });
    }) as typeof fetch;
    const make = () =>
      createResilientFetch({
        source: 'stand-in',
        fetch: fetchOk,
        shared: { redis: connection(), prefix },
        rateLimit: { windows: [{ points: 2, durationSec: 1 }], maxWaitMs: 3000 },
      });
    const a = make();
    const b = make();
    await a('http://vendor.test/q');
    await b('http://vendor.test/q');
    const started = Date.now();
    expect((await a('http://vendor.test/q')).status).toBe(200);
    // It waited for the window both processes share to roll over.
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(t).toHaveLength(3);
  });
});

describe('a circuit breaker shared by two processes', () => {
  it('is seen open by the other process once one has opened it, and one trial closes it for both', async () => {
    let down = true;
    let release: () => void = () => undefined;
    let holdTrial = false;
    server.answer(async () => {
      if (holdTrial) {
        await new Promise<void>((r) => {
          release = r;
        });
        return hogqlRow(5);
      }
      return down ? { status: 503, json: { detail: 'down' } } : hogqlRow(5);
    });
    const circuit = { failureThreshold: 2, resetMs: 30_000 };
    const make = () =>
      new PostHogClient({
        baseUrl: server.url,
        apiKey: API_KEY,
        projectId: '7',
        shared: { redis: connection(), prefix },
        resilience: { sleep: time.sleep, now: time.now, retries: 0, circuit },
      });
    const a = make();
    const b = make();
    expect((await failure(a.valueOver(EVENT, WEEK, AT))).message).toBe('posthog: HTTP 503 after 1 attempt');
    expect((await failure(a.valueOver(EVENT, WEEK, AT))).message).toBe('posthog: HTTP 503 after 1 attempt');
    expect(server.requests).toHaveLength(2);

    // B never saw a failure itself, yet does not call.
    const open = await failure(b.valueOver(EVENT, WEEK, AT));
    expect(open.message).toBe('posthog: not called: 2 calls in a row failed; the next try is in 30 s');
    expect(open.retryAfterMs).toBe(30_000);
    expect(server.requests).toHaveLength(2);

    // After resetMs, B makes the one trial; while it runs, A is refused.
    time.advance(30_000);
    down = false;
    holdTrial = true;
    const trial = b.valueOver(EVENT, WEEK, AT);
    await new Promise((r) => setTimeout(r, 100));
    expect((await failure(a.valueOver(EVENT, WEEK, AT))).message).toBe(
      'posthog: not called: a trial call after repeated failures is under way',
    );
    holdTrial = false;
    release();
    expect((await trial).value).toBe(5);

    // Closed for both.
    expect((await a.valueOver(EVENT, WEEK, AT)).value).toBe(5);
    expect(server.requests).toHaveLength(4);
  });
});

/** A Honeycomb that completes query results at once; `limited` decides when to answer 429. */
function honeycomb(limited: (n: number) => StandInReply | null) {
  let results = 0;
  return (req: RecordedRequest): StandInReply => {
    if (req.method === 'POST' && req.path === '/1/queries/web') return { json: { id: 'q1' } };
    if (req.method === 'POST' && req.path === '/1/query_results/web') {
      results += 1;
      const refusal = limited(results);
      if (refusal) return refusal;
      return {
        status: 201,
        json: { id: `r${results}`, complete: true, data: { results: [{ data: { COUNT: 9 } }] } },
      };
    }
    return { status: 404, json: { error: 'not found' } };
  };
}

function honeycombClient() {
  return new HoneycombClient({
    baseUrl: server.url,
    apiKey: HC_KEY,
    dataset: 'web',
    sleep: time.sleep,
    now: () => AT,
    shared: { redis: connection(), prefix },
    resilience: { now: time.now },
  });
}

describe("Honeycomb's RateLimit reset, honoured by every process", () => {
  const problem = { status: 429, error: 'You have exceeded your rate limit.' };
  const HC = { source: 'honeycomb' as const, event: 'export.done' };

  it('pauses both processes until the reset after a 429 with RateLimit: …reset=N', async () => {
    server.answer(
      honeycomb((n) =>
        n === 1
          ? { status: 429, headers: { RateLimit: 'limit=10, remaining=0, reset=45' }, json: problem }
          : null,
      ),
    );
    const a = honeycombClient();
    const b = honeycombClient();
    const err = await failure(a.valueOver(HC, DAY, AT));
    expect(err.message).toBe(
      'honeycomb: not called again: honeycomb asked to slow down (HTTP 429), for every donedone process; the next try is in 45 s',
    );
    expect(err.retryAfterMs).toBe(45_000);
    const results = () => server.requests.filter((r) => r.path === '/1/query_results/web').length;
    expect(results()).toBe(1);
    // B has not been told anything by Honeycomb, yet waits for the same reset.
    const held = await failure(b.valueOver(HC, DAY, AT));
    expect(held.message).toMatch(
      /^honeycomb: not called: honeycomb asked to slow down \(HTTP 429\), for every donedone process; the next try is in (44|45) s$/,
    );
    expect(results()).toBe(1);
  });

  it('waits out a short RateLimit-Reset and then goes on', async () => {
    server.answer(
      honeycomb((n) =>
        n === 1 ? { status: 429, headers: { 'RateLimit-Reset': '1' }, json: problem } : null,
      ),
    );
    const a = honeycombClient();
    const b = honeycombClient();
    expect((await a.valueOver(HC, DAY, AT)).value).toBe(9);
    expect(time.sleeps).toEqual([1000]);
    // B waited in real time for the shared pause (up to a second), then was answered.
    expect((await b.valueOver(HC, DAY, AT)).value).toBe(9);
    expect(server.requests.filter((r) => r.path === '/1/query_results/web')).toHaveLength(3);
  });
});
