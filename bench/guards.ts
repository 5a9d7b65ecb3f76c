/**
 * Guardrail rounds at scale: 10,000 launched features with 3 guardrails each (30,000 guards) over
 * 2,000 distinct queries, evaluated round after round (5-minute intervals on the bot's clock),
 * against a Prometheus stand-in answering in 20 ms.
 *
 * Two processes: this one runs the bot's GuardService as the worker does (real Redis, the real
 * PrometheusClient, the measurement cache, a real BullMQ queue for the breach jobs), and a forked
 * Prometheus stand-in (`/api/v1/query`, 20 ms, counts calls per distinct query and time), so its CPU
 * is not the worker's. Prints, per round: wall time, telemetry calls, worker CPU (user + system of
 * this process during the round), breaches queued. One query in 100 reads above its limit, so
 * those guards breach at the second round. The run's Redis keys are deleted at the end.
 *
 * Run with `npm run bench:guards`. Settings: BENCH_ROUNDS (default 4), BENCH_CONCURRENCY (telemetry
 * calls in flight in a round, default the service's 32).
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { DateTime } from 'luxon';
import pino from 'pino';
import type { Feature, Guard } from '../src/domain/model';
import { parseExpectation } from '../src/domain/parse-expectation';
import { Effects } from '../src/jobs/effects';
import { QUEUE_NAME } from '../src/jobs/queue';
import type { SlackPort } from '../src/slack/port';
import { FeatureStore } from '../src/store/feature-store';
import { bullPrefix, teamKey } from '../src/store/keys';
import { Marks } from '../src/store/marks';
import { MeasurementCache } from '../src/telemetry/measurement-cache';
import { PrometheusClient } from '../src/telemetry/prometheus-client';
import { Telemetry } from '../src/telemetry/telemetry';
import { GuardService } from '../src/usecases/guard-service';
import { benchRedis, deleteUnder } from './redis-target';

const FEATURES = 10_000;
const GUARDS_PER_FEATURE = 3;
const QUERIES = 2_000;
const TELEMETRY_DELAY_MS = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const INTERVAL_MS = 300_000;
const START = DateTime.fromISO('2026-06-01T09:00:00.000Z', { zone: 'utc' });
const LIMIT = 0.5;

// ---------------------------------------------------------------------------------------------
// The Prometheus stand-in (child process).

function runTelemetry(): void {
  const calls = new Map<string, number>();
  let total = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = url.searchParams.get('query') ?? '';
    const time = url.searchParams.get('time') ?? '';
    const key = `${query}\n${time}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    total++;
    // bench_ratio_<n>: one query in 100 reads above the limit.
    const n = Number(/bench_ratio_(\d+)/.exec(query)?.[1] ?? 1);
    const value = n % 100 === 0 ? 0.9 : 0.1;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [Number(time), String(value)] }] },
        }),
      );
    }, TELEMETRY_DELAY_MS);
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.send?.({ type: 'ready', url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` });
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') {
      const repeated = [...calls.values()].filter((c) => c > 1).length;
      process.send?.({ type: 'stats', total, distinct: calls.size, repeated });
      calls.clear();
      total = 0;
    }
    if (m.type === 'stop') process.exit(0);
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const child = fork(__filename, ['telemetry'], { execArgv: process.execArgv });
  const url = await new Promise<string>((resolve) =>
    child.on('message', (m: { type: string; url?: string }) => {
      if (m.type === 'ready') resolve(m.url!);
    }),
  );
  const stats = () =>
    new Promise<{ total: number; distinct: number; repeated: number }>((resolve) => {
      const on = (m: { type: string; total: number; distinct: number; repeated: number }) => {
        if (m.type !== 'stats') return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.send({ type: 'stats' });
    });

  const prefix = `bench-guards:${randomUUID()}:`;
  const redis = benchRedis({ maxRetriesPerRequest: 3 });
  const queueRedis = benchRedis({ maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection: queueRedis, prefix: bullPrefix(prefix) });
  const store = new FeatureStore(redis, prefix);
  const clock = { now: START };
  const telemetry = new Telemetry(
    [new PrometheusClient({ baseUrl: url })],
    [],
    new MeasurementCache(redis, prefix),
  );
  const unused = {} as SlackPort;
  const guards = new GuardService({
    store,
    telemetry,
    queue: queue as never,
    redis,
    prefix,
    jobPoster: unused,
    poster: unused,
    effects: new Effects(new Marks(redis, prefix), redis, prefix),
    admins: [],
    intervalMs: INTERVAL_MS,
    log: pino({ level: 'warn' }),
    now: () => clock.now,
    ...(process.env.BENCH_CONCURRENCY ? { concurrency: Number(process.env.BENCH_CONCURRENCY) } : {}),
  });

  try {
    // Seed: 10,000 launched features, guard i of feature f on query (3f + i) mod 2,000.
    const base = parseExpectation('bench_total >= 100 per week within 30 days');
    if (!base.ok) throw new Error(base.error);
    const seedStart = Date.now();
    const launchedAt = START.minus({ days: 1 }).toISO()!;
    await redis.sadd(`${prefix}teams`, 'T1');
    for (let f = 0; f < FEATURES; f += 500) {
      // One workspace: all its keys share its slot, so one pipeline holds them on a cluster too.
      const pipeline = redis.pipeline();
      for (let i = f; i < Math.min(FEATURES, f + 500); i++) {
        const guardList: Guard[] = [];
        for (let g = 0; g < GUARDS_PER_FEATURE; g++) {
          const n = (i * GUARDS_PER_FEATURE + g) % QUERIES;
          const name = `bench_ratio_${n}`;
          guardList.push({
            metric: { source: 'prometheus', name, matchers: [] },
            op: '<',
            target: LIMIT,
            overSeconds: 3600,
            text: `${name} < ${LIMIT} over 1h`,
          });
        }
        const id = `F-${i + 1}`;
        const feature: Feature = {
          id,
          team: 'T1',
          title: `Feature ${i + 1}`,
          ownerId: `U${i % 500}`,
          proposedBy: `U${i % 500}`,
          status: 'launched',
          createdAt: launchedAt,
          channel: `C${i % 100}`,
          cardTs: `1.${i}`,
          expectation: { ...base.value, guards: guardList },
          launchedAt,
        };
        pipeline.hset(teamKey(prefix, 'T1', 'f', id), 'v', '1', 'json', JSON.stringify(feature));
        pipeline.zadd(teamKey(prefix, 'T1', 'ids'), i + 1, id);
      }
      await pipeline.exec();
    }
    console.log(
      `seeded ${FEATURES.toLocaleString('en-US')} features × ${GUARDS_PER_FEATURE} guardrails over ${QUERIES.toLocaleString('en-US')} distinct queries in ${((Date.now() - seedStart) / 1000).toFixed(1)} s; telemetry stand-in at ${TELEMETRY_DELAY_MS} ms`,
    );
    console.log('round  wall s  telemetry calls  distinct  repeated  worker CPU s  guards  breaches queued');
    const rows: { wall: number; cpu: number; calls: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      clock.now = START.plus({ milliseconds: r * INTERVAL_MS });
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const summary = await guards.round();
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      const s = await stats();
      rows.push({ wall, cpu: cpuS, calls: s.total });
      console.log(
        `${String(r + 1).padStart(5)}  ${wall.toFixed(2).padStart(6)}  ${String(s.total).padStart(15)}  ${String(s.distinct).padStart(8)}  ${String(s.repeated).padStart(8)}  ${cpuS.toFixed(2).padStart(12)}  ${String(summary.guards).padStart(6)}  ${String(summary.events).padStart(15)}`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `median round: ${median(rows.map((r) => r.wall)).toFixed(2)} s wall, ${median(rows.map((r) => r.cpu)).toFixed(2)} s worker CPU, ${median(rows.map((r) => r.calls))} telemetry calls (distinct queries: ${QUERIES})`,
    );
  } finally {
    child.send({ type: 'stop' });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await deleteUnder(redis, prefix);
    redis.disconnect();
    queueRedis.disconnect();
  }
}

if (process.argv[2] === 'telemetry') runTelemetry();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
