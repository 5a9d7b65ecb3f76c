/**
 * A sweep of due checks: 10,000 launched features over 1,000 distinct metric queries (10 features
 * each), all at the same weekly checkpoint, against a telemetry stand-in answering in 20 ms; then
 * a PostHog sweep: 1,000 more checks, each over its own PostHog event, due at one time.
 * Targets (2-core machine): every check measured and stored within 60 s; the telemetry called once
 * per distinct (query, window, time), 1,000 calls and not 10,000; posts under one per second per
 * channel; the bot's RSS under 300 MB. Issue 13: at most 1.5 job runs per post (check jobs and
 * pacing jobs), the last post within 5% of the posting floor (the busiest channel at one post per
 * 1.1 s), half of 63 s of bot CPU; the PostHog sweep in at most 10 HogQL queries.
 *
 * Five processes: this one (seeds Redis, queues the jobs, samples the bot's RSS from /proc, prints),
 * the bot (`createDonedone` with its workers, the real ones: concurrency 20, production queue and
 * pacing settings), a Prometheus stand-in (`/api/v1/query`, 20 ms, counts calls per distinct query
 * and time), a PostHog stand-in (HogQL, 20 ms, counts queries) and a Slack Web API stand-in (records
 * when each chat.postMessage arrived, per channel). The stand-ins' CPU is theirs, not the bot's.
 * Everything is on 127.0.0.1; the run's Redis keys are deleted at the end. Counts (job runs, Redis
 * commands the bot sent, telemetry and PostHog queries) do not depend on the machine's load; times
 * and CPU do.
 *
 * Run with `npm run bench:checks`. Settings: BENCH_FEATURES (10000), BENCH_METRICS (a tenth of
 * the features), BENCH_CHANNELS (default 100: 100 thread posts a channel, which at one a second need
 * at least 110 s), BENCH_POSTHOG_FEATURES (1000; 0 skips the PostHog sweep), BENCH_PACE_HOLD_MS
 * (the pacer's in-job wait, default 2000; 0 sends every wait to BullMQ's delayed set),
 * BENCH_SWEEP_LIMIT_S (default 200), BENCH_HARD_LIMIT_S (300), BENCH_LOG_LEVEL (the bot's, default
 * warn), BENCH_CPU_PROF=<dir> (CPU profile of the bot), BENCH_TS_NODE=1 (run the bot under ts-node
 * like the stand-ins; by default it runs as plain JavaScript transpiled into a temporary directory,
 * as in production: ts-node and the TypeScript compiler add about 110 MB to a process' RSS).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import type { Feature } from '../src/domain/model';
import { checkJobId } from '../src/jobs/queue';
import { bullPrefix, teamKey } from '../src/store/keys';
import { prng } from '../test/fixtures/board';
import { readBody } from '../test/support/slack-stand-in';
import { deployedNodeFlags } from './lib/node-flags';
import { speedProbeMs } from './lib/speed-probe';
import { benchRedis, benchRedisEnv, deleteUnder, redisUse } from './redis-target';

export { deleteUnder as deleteKeys, redisUse };

const FEATURES = Number(process.env.BENCH_FEATURES ?? 10_000);
const METRICS = Number(process.env.BENCH_METRICS ?? Math.max(1, Math.round(FEATURES / 10)));
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 100);
const OWNERS = 500;
/** The PostHog sweep after the Prometheus one: this many checks, each over its own event (0: none). */
const POSTHOG_FEATURES = Number(process.env.BENCH_POSTHOG_FEATURES ?? 1_000);
export const TELEMETRY_DELAY_MS = 20;
const TELEMETRY_VALUE = 500;
const SWEEP_LIMIT_MS = Number(process.env.BENCH_SWEEP_LIMIT_S ?? 200) * 1000;
/** Nothing here may run longer than this, whatever goes wrong. */
const HARD_LIMIT_MS = Number(process.env.BENCH_HARD_LIMIT_S ?? 300) * 1000;
/** The pacer's in-job wait for the next slot (src/jobs/pacing.ts, holdMs); 0 sends every wait to the delayed set. */
const PACE_HOLD_MS = process.env.BENCH_PACE_HOLD_MS;
/** Effects' spacing of posts to one channel (src/jobs/effects.ts, perChannelMs). */
export const PER_CHANNEL_MS = 1100;
const TARGETS = {
  sweepS: 60,
  telemetryCalls: METRICS,
  postsPerChannelPerS: 1,
  rssMb: 300,
  // Issue 13: at most 1.5 job runs per post, within 5% of the posting floor, half of 63 s of CPU.
  runsPerPost: 1.5,
  floorRatio: 1.05,
  cpuS: 31.5,
};
/** The bot's clock: every feature launched exactly a week before, so its first weekly check is due now. */
export const NOW = DateTime.fromISO('2026-06-01T09:00:00.000Z', { zone: 'utc' });
export const LAUNCHED_AT = NOW.minus({ weeks: 1 }).toISO()!;
export const CHECK_AT = DateTime.fromISO(LAUNCHED_AT, { zone: 'utc' }).plus({ weeks: 1 }).toISO()!;

/** A feature's weekly check job due at CHECK_AT, as the watch queues it (the sweeps queue these). */
export function checkJob(f: Feature) {
  const data = {
    team: f.team,
    id: f.id,
    launchedAt: f.launchedAt!,
    expectation: f.expectation!.text,
    at: CHECK_AT,
    kind: 'scheduled' as const,
  };
  return { name: 'check', data, opts: { jobId: checkJobId(data) } };
}

type Role = 'telemetry' | 'slack' | 'posthog' | 'bot';
export type Stats = Record<string, number>;
type FromParent = { id: number; type: string; arg?: unknown };
type ToParent = { type: 'ready'; url?: string } | { type: 'reply'; id: number; data: Stats };

/** Answers the parent's requests; `stop` replies, then exits. */
function serveParent(handlers: Record<string, (arg: unknown) => Stats | Promise<Stats>>): void {
  const send = (m: ToParent) => process.send?.(m);
  process.on('message', async (m: FromParent) => {
    const handler = handlers[m.type];
    const data = handler ? await handler(m.arg) : {};
    send({ type: 'reply', id: m.id, data });
    if (m.type === 'stop') setImmediate(() => process.exit(0));
  });
  // If the parent dies, go too (the bot also stops its worker first).
  process.on('disconnect', async () => {
    await handlers.stop?.(undefined);
    process.exit(0);
  });
}

function listen(server: ReturnType<typeof createServer>): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The Prometheus stand-in: an instant query answered after 20 ms, calls counted per (query, time).

async function runTelemetry(): Promise<void> {
  const calls = new Map<string, number>();
  let total = 0;
  let other = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let first = 0;
  let last = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api/v1/query') {
      other++;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'not in the stand-in' }));
      return;
    }
    const query = url.searchParams.get('query') ?? '';
    const time = url.searchParams.get('time') ?? '';
    const key = `${query}\n${time}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    total++;
    first ||= Date.now();
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      last = Date.now();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: {
            resultType: 'vector',
            result: [{ metric: {}, value: [Number(time), String(TELEMETRY_VALUE)] }],
          },
        }),
      );
    }, TELEMETRY_DELAY_MS);
  });
  server.keepAliveTimeout = 60_000;
  const url = await listen(server);
  serveParent({
    stats: () => ({
      total,
      distinct: calls.size,
      maxPerKey: Math.max(0, ...calls.values()),
      other,
      peakInFlight,
      first,
      last,
    }),
    stop: () => {
      server.close();
      return {};
    },
  });
  process.send?.({ type: 'ready', url } satisfies ToParent);
}

// ---------------------------------------------------------------------------------------------
// The PostHog stand-in: HogQL over /api/projects/1/query/ (one event, or many grouped by event),
// answered after 20 ms with TELEMETRY_VALUE for every event; counts queries and events asked for.

export const POSTHOG_KEY = 'phx_bench_key';

async function runPostHog(): Promise<void> {
  let queries = 0;
  let batched = 0;
  let eventsAsked = 0;
  let definitions = 0;
  const times: number[] = [];
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, json: unknown) =>
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      }, TELEMETRY_DELAY_MS);
    if (req.headers.authorization !== `Bearer ${POSTHOG_KEY}`) return answer(401, { detail: 'bad key' });
    if (req.method === 'GET' && url.pathname === '/api/projects/1/event_definitions/') {
      definitions++;
      const search = url.searchParams.get('search') ?? '';
      return answer(200, { results: search ? [{ name: search }] : [], next: null });
    }
    if (req.method !== 'POST' || url.pathname !== '/api/projects/1/query/') return answer(404, {});
    const body = JSON.parse(raw) as { query: { query: string; values: Record<string, string> } };
    const { query, values } = body.query;
    queries++;
    times.push(Date.now());
    if (query.includes('GROUP BY event')) {
      batched++;
      const events = Object.entries(values)
        .filter(([k]) => /^e\d+$/.test(k))
        .map(([, v]) => v);
      eventsAsked += events.length;
      const unique = query.includes('DISTINCT');
      return answer(200, {
        results: events.map((e) => (unique ? [e, TELEMETRY_VALUE, TELEMETRY_VALUE] : [e, TELEMETRY_VALUE])),
      });
    }
    eventsAsked++;
    return answer(200, { results: [[TELEMETRY_VALUE]] });
  });
  server.keepAliveTimeout = 60_000;
  const url = await listen(server);
  serveParent({
    stats: () => {
      let maxPerMinute = 0;
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        while (j < times.length && times[j]! - times[i]! < 60_000) j++;
        maxPerMinute = Math.max(maxPerMinute, j - i);
      }
      return { queries, batched, eventsAsked, definitions, maxPerMinute };
    },
    stop: () => {
      server.close();
      return {};
    },
  });
  process.send?.({ type: 'ready', url } satisfies ToParent);
}

// ---------------------------------------------------------------------------------------------
// The Slack Web API stand-in: answers as Slack does, records when each post arrived, per channel.

function fields(raw: string, contentType: string | undefined): Record<string, string> {
  if (contentType?.includes('application/json')) return raw ? JSON.parse(raw) : {};
  return Object.fromEntries(new URLSearchParams(raw));
}

async function runSlack(): Promise<void> {
  const postsByChannel = new Map<string, number[]>();
  const threads = new Map<string, number>();
  let seq = 0;
  let posts = 0;
  let threadPosts = 0;
  let updates = 0;
  let otherCalls = 0;
  let last = 0;
  // bench:scale's workspaces each have their own token (`xoxb-bench-T0042` for channels `C0042X…`):
  // a post into a channel with another workspace's token is counted.
  let wrongToken = 0;
  const server = createServer(async (req, res) => {
    const body = fields(await readBody(req), req.headers['content-type']);
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0];
    const ts = `1793491200.${String(++seq).padStart(6, '0')}`;
    let answer: Record<string, unknown> = { ok: true };
    if (method === 'auth.test') {
      answer = { ok: true, team_id: 'T1', user_id: 'UBOT', bot_id: 'BBOT', url: 'https://acme.slack.com/' };
    } else if (method === 'chat.postMessage') {
      const now = Date.now();
      const channel = String(body.channel);
      const times = postsByChannel.get(channel) ?? [];
      if (times.length === 0) postsByChannel.set(channel, times);
      times.push(now);
      posts++;
      last = now;
      const token = /^Bearer xoxb-bench-T(\d+)$/.exec(String(req.headers.authorization ?? ''));
      const team = /^C(\d+)X/.exec(channel);
      if (token && team?.[1] !== token[1]) wrongToken++;
      if (body.thread_ts) {
        threadPosts++;
        const thread = `${channel}/${body.thread_ts}`;
        threads.set(thread, (threads.get(thread) ?? 0) + 1);
      }
      answer = { ok: true, channel, ts, message: { text: body.text } };
    } else if (method === 'chat.update') {
      updates++;
      answer = { ok: true, channel: body.channel, ts: body.ts };
    } else {
      otherCalls++;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  server.keepAliveTimeout = 60_000;
  const url = await listen(server);
  serveParent({
    progress: () => ({ posts, threadPosts, last }),
    stats: () => {
      // The most posts one channel got within any 1 s, and the shortest gap between two of them.
      let maxIn1s = 0;
      let minGapMs = Number.POSITIVE_INFINITY;
      let maxPerChannel = 0;
      for (const times of postsByChannel.values()) {
        maxPerChannel = Math.max(maxPerChannel, times.length);
        let j = 0;
        for (let i = 0; i < times.length; i++) {
          while (j < times.length && times[j]! - times[i]! < 1000) j++;
          maxIn1s = Math.max(maxIn1s, j - i);
          if (i > 0) minGapMs = Math.min(minGapMs, times[i]! - times[i - 1]!);
        }
      }
      let duplicates = 0;
      for (const n of threads.values()) duplicates += n - 1;
      return {
        posts,
        threadPosts,
        threads: threads.size,
        duplicates,
        wrongToken,
        channels: postsByChannel.size,
        maxPerChannel,
        maxIn1s,
        minGapMs,
        updates,
        otherCalls,
        last,
      };
    },
    stop: () => {
      server.close();
      return {};
    },
  });
  process.send?.({ type: 'ready', url } satisfies ToParent);
}

// ---------------------------------------------------------------------------------------------
// The bot: the whole of donedone with its worker, instrumented from outside (no change to src/).

async function runBot(): Promise<void> {
  const { createDonedone } = await import('../src/app');
  const { loadConfig } = await import('../src/config');
  const { RetryLater } = await import('../src/jobs/effects');
  const { ChannelPacing } = await import('../src/jobs/pacing');
  const { DelayedError } = await import('bullmq');
  const prefix = process.env.BENCH_PREFIX!;
  // Redis commands this process sends (a script or a queued MULTI command counts once): load-independent,
  // unlike the server's total, which counts every other client of a shared Redis too.
  const { default: IORedis } = await import('ioredis');
  let redisSent = 0;
  let redisScripts = 0;
  const sendCommand = IORedis.prototype.sendCommand;
  IORedis.prototype.sendCommand = function (this: InstanceType<typeof IORedis>, command, ...rest) {
    redisSent++;
    if (/^eval/i.test((command as { name?: string })?.name ?? '')) redisScripts++;
    return sendCommand.call(this, command, ...rest);
  } as typeof sendCommand;
  // Every run of a pacing job, and how many ended in the delayed set (a wait longer than its hold).
  let paceRuns = 0;
  let paceDelayed = 0;
  const run = ChannelPacing.prototype.run;
  ChannelPacing.prototype.run = async function (this: InstanceType<typeof ChannelPacing>, ...args) {
    paceRuns++;
    try {
      return await run.apply(this, args);
    } catch (err) {
      if (err instanceof DelayedError) paceDelayed++;
      throw err;
    }
  };
  // BENCH_ENCRYPTION_KEY: many-workspace mode (bench:scale), each workspace served with the token
  // of its own installation, seeded by the bench into the installation store; otherwise one token.
  const oauthKey = process.env.BENCH_ENCRYPTION_KEY;
  const config = loadConfig({
    ...(oauthKey
      ? {
          SLACK_CLIENT_ID: 'bench-client',
          SLACK_CLIENT_SECRET: 'bench-client-secret',
          SLACK_STATE_SECRET: 'bench-state-secret',
          DONEDONE_ENCRYPTION_KEY: oauthKey,
        }
      : { SLACK_BOT_TOKEN: 'xoxb-bench-token' }),
    SLACK_SIGNING_SECRET: 'bench-signing-secret',
    SLACK_API_URL: `${process.env.BENCH_SLACK_URL}/api/`,
    PROMETHEUS_URL: process.env.BENCH_TELEMETRY_URL!,
    ...(process.env.BENCH_POSTHOG_URL
      ? { POSTHOG_URL: process.env.BENCH_POSTHOG_URL, POSTHOG_API_KEY: POSTHOG_KEY, POSTHOG_PROJECT_ID: '1' }
      : {}),
    ...benchRedisEnv(),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DONEDONE_ALLOW_VOLATILE_REDIS: '1',
  });
  const donedone = createDonedone({
    config,
    now: () => NOW,
    keyPrefix: prefix,
    ...(PACE_HOLD_MS !== undefined ? { pacing: { holdMs: Number(PACE_HOLD_MS) } } : {}),
  });

  // When each feature's check was first stored, and how often a check job ran and why it waited.
  const stored = new Map<string, number>();
  const checks = donedone.checks;
  const addCheck = checks.add.bind(checks);
  checks.add = async (team, id, check) => {
    await addCheck(team, id, check);
    if (!stored.has(`${team}/${id}`)) stored.set(`${team}/${id}`, Date.now());
  };
  let attempts = 0;
  let waitChannel = 0;
  let waitBusy = 0;
  let waitSlack = 0;
  let errors = 0;
  const watch = donedone.watch;
  const checkpoint = watch.checkpoint.bind(watch);
  watch.checkpoint = async (job, opts) => {
    attempts++;
    try {
      return await checkpoint(job, opts);
    } catch (err) {
      if (err instanceof RetryLater) {
        if (err.message.startsWith('channel')) waitChannel++;
        else if (err.message.startsWith('effect')) waitBusy++;
        else waitSlack++;
      } else errors++;
      throw err;
    }
  };

  const eld = monitorEventLoopDelay({ resolution: 10 });
  let cpuMark = process.cpuUsage();
  let redisMark = { sent: 0, scripts: 0 };
  let stopped = false;
  await donedone.start(0);
  serveParent({
    mark: () => {
      cpuMark = process.cpuUsage();
      redisMark = { sent: redisSent, scripts: redisScripts };
      eld.reset();
      eld.enable();
      return {};
    },
    progress: () => {
      const mem = process.memoryUsage();
      return {
        stored: stored.size,
        attempts,
        paceRuns,
        waitChannel,
        waitBusy,
        waitSlack,
        errors,
        heapMb: mem.heapUsed / 2 ** 20,
        externalMb: (mem.external + mem.arrayBuffers) / 2 ** 20,
      };
    },
    stats: () => {
      const cpu = process.cpuUsage(cpuMark);
      // What the sweep cost, from the mark on.
      redisSent -= redisMark.sent;
      redisScripts -= redisMark.scripts;
      redisMark = { sent: 0, scripts: 0 };
      let lastStored = 0;
      for (const t of stored.values()) lastStored = Math.max(lastStored, t);
      return {
        stored: stored.size,
        lastStored,
        attempts,
        paceRuns,
        paceDelayed,
        redisSent,
        redisScripts,
        waitChannel,
        waitBusy,
        waitSlack,
        errors,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        eldP99: eld.percentile(99) / 1e6,
        eldMax: eld.max / 1e6,
        heapMb: process.memoryUsage().heapUsed / 2 ** 20,
      };
    },
    stop: async () => {
      if (stopped) return {};
      stopped = true;
      // Closing waits for the jobs in hand; do not wait for ever.
      await Promise.race([donedone.stop(), sleep(15_000)]);
      return {};
    },
  });
  process.send?.({ type: 'ready' } satisfies ToParent);
}

// ---------------------------------------------------------------------------------------------
// The parent.

export interface Child {
  role: Role;
  proc: ChildProcess;
  url: string;
  ask(type: string, arg?: unknown): Promise<Stats>;
}

export function startChild(role: Role, env: Record<string, string> = {}, js?: string): Promise<Child> {
  const proc = fork(js ?? __filename, ['--role', role], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
    execArgv: [
      ...(js ? [] : process.execArgv),
      // The bot runs with the heap flag of `npm start` (the heap grown by 100%, not V8's up to 300%).
      ...(role === 'bot' ? deployedNodeFlags() : []),
      ...(process.env.BENCH_CPU_PROF && role === 'bot'
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
  });
  let nextId = 0;
  const waiting = new Map<number, (data: Stats) => void>();
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => {
      reject(new Error(`${role} exited early (code ${code})`));
      for (const w of waiting.values()) w({});
    });
    proc.on('message', (m: ToParent) => {
      if (m.type === 'reply') {
        waiting.get(m.id)?.(m.data);
        waiting.delete(m.id);
        return;
      }
      resolve({
        role,
        proc,
        url: m.url ?? '',
        ask(type, arg) {
          if (!proc.connected) return Promise.resolve({});
          const id = ++nextId;
          return new Promise((res) => {
            waiting.set(id, res);
            // A child that is exiting (asked to stop twice) closes its pipe: the send fails with EPIPE,
            // which without a callback is an unhandled 'error' event on the child.
            proc.send({ id, type, arg } satisfies FromParent, (err) => {
              if (!err) return;
              waiting.delete(id);
              res({});
            });
          });
        },
      });
    });
  });
}

/** The features: metric k = n mod 1,000 (10 features each), channel and owner drawn at random. */
function featureFor(n: number, id: string, expectationOf: (text: string) => Feature['expectation']) {
  const r = prng(n);
  const metric = `bench_metric_${String(n % METRICS).padStart(4, '0')}_total`;
  // Targets vary; all are below the stand-in's value, so every check is `on track` (no owner DMs).
  const target = 100 + 10 * (n % 30);
  return {
    title: `Bench feature ${id}`,
    ownerId: `U${String(Math.floor(r() * OWNERS)).padStart(4, '0')}`,
    proposedBy: 'U0000',
    status: 'launched' as const,
    createdAt: NOW.minus({ weeks: 3 }).toISO()!,
    channel: `C${String(Math.floor(r() * CHANNELS)).padStart(4, '0')}`,
    cardTs: `1790000000.${String(n).padStart(6, '0')}`,
    expectation: expectationOf(`${metric} >= ${target} per week within 30 days`),
    instrumented: 'yes' as const,
    launchedAt: LAUNCHED_AT,
    // In use since the launch hour: the check judges the rate, with no first-use search (a range
    // query the stand-in does not answer).
    firstUseAt: LAUNCHED_AT,
  };
}

/**
 * src/, this file and the test helpers it uses as plain CommonJS in a temporary directory (what `npm run build` makes, without
 * touching dist/), so the bot's process holds no TypeScript compiler. Returns this file's copy.
 */
export async function transpile(dir: string): Promise<string> {
  const { default: ts } = await import('typescript');
  const root = join(__dirname, '..');
  // This file and what it imports from test/ (no TypeScript there either).
  const files: string[] = [
    join(root, 'bench', 'checks-sweep.ts'),
    join(root, 'bench', 'redis-target.ts'),
    join(root, 'bench', 'lib', 'node-flags.ts'),
    join(root, 'bench', 'lib', 'speed-probe.ts'),
    join(root, 'test', 'fixtures', 'board.ts'),
    join(root, 'test', 'support', 'slack-stand-in.ts'),
  ];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(join(root, 'src'));
  for (const file of files) {
    const out = join(dir, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
      fileName: file,
    });
    writeFileSync(out, outputText);
  }
  return join(dir, 'bench', 'checks-sweep.js');
}

/** /proc/<pid>/status VmRSS, in MB (Linux). */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');

async function main(): Promise<void> {
  const began = Date.now();
  const prefix = `bench:checks:${randomUUID()}:`;
  const redis = benchRedis({ maxRetriesPerRequest: null });
  const children: ChildProcess[] = [];
  const jsDir = process.env.BENCH_TS_NODE ? undefined : mkdtempSync(join(tmpdir(), 'donedone-checks-sweep-'));
  let cleaned = false;
  const cleanUp = async () => {
    if (cleaned) return 0;
    cleaned = true;
    for (const c of children) if (c.exitCode === null) c.kill();
    if (jsDir) rmSync(jsDir, { recursive: true, force: true });
    return deleteUnder(redis, prefix);
  };
  const hardLimit = setTimeout(async () => {
    console.error(`bench: gave up after ${HARD_LIMIT_MS / 1000} s`);
    await Promise.race([cleanUp(), sleep(10_000)]).catch(() => undefined);
    process.exit(1);
  }, HARD_LIMIT_MS);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      await Promise.race([cleanUp(), sleep(10_000)]).catch(() => undefined);
      process.exit(130);
    });
  }

  const [telemetry, slack, posthog] = await Promise.all([
    startChild('telemetry'),
    startChild('slack'),
    startChild('posthog'),
  ]);
  children.push(telemetry.proc, slack.proc, posthog.proc);

  // Seed: 10,000 launched features, concurrently in batches (not part of the sweep).
  const { FeatureStore } = await import('../src/store/feature-store');
  const { parseExpectation } = await import('../src/domain/parse-expectation');
  const { createQueue, DEFAULT_QUEUE_SETTINGS } = await import('../src/jobs/queue');
  const store = new FeatureStore(redis, prefix);
  const expectationOf = (text: string) => {
    const parsed = parseExpectation(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.value;
  };
  const seedStart = Date.now();
  const features: Feature[] = [];
  for (let i = 0; i < FEATURES; i += 500) {
    const batch = Array.from({ length: Math.min(500, FEATURES - i) }, () =>
      store.create('T1', (id) => featureFor(Number(id.slice(2)), id, expectationOf)),
    );
    features.push(...(await Promise.all(batch)));
  }
  features.sort((a, b) => Number(a.id.slice(2)) - Number(b.id.slice(2)));
  const seedMs = Date.now() - seedStart;

  const botJs = jsDir ? await transpile(jsDir) : undefined;
  const bot = await startChild(
    'bot',
    {
      BENCH_PREFIX: prefix,
      BENCH_SLACK_URL: slack.url,
      BENCH_TELEMETRY_URL: telemetry.url,
      BENCH_POSTHOG_URL: posthog.url,
      // The transpiled copy finds the project's packages here.
      NODE_PATH: join(__dirname, '..', 'node_modules'),
    },
    botJs,
  );
  children.push(bot.proc);
  const botPid = bot.proc.pid!;
  const rssIdle = rssMb(botPid);

  const postsByChannel = new Map<string, number>();
  for (const f of features) postsByChannel.set(f.channel!, (postsByChannel.get(f.channel!) ?? 0) + 1);
  const busiest = Math.max(...postsByChannel.values());
  const postFloorMs = (busiest - 1) * PER_CHANNEL_MS;
  console.log(
    `checks sweep: ${FEATURES} launched features, ${METRICS} distinct metric queries (${FEATURES / METRICS} ` +
      `features each), one weekly checkpoint due for all (${CHECK_AT}); telemetry stand-in ${TELEMETRY_DELAY_MS} ms; ` +
      `${postsByChannel.size} channels (${busiest} posts in the busiest: at one per ${PER_CHANNEL_MS} ms, ` +
      `≥ ${s(postFloorMs)} to post them all); worker concurrency 20; seeded in ${s(seedMs)}`,
  );

  // The sweep: 10,000 check jobs due now, picked up by the bot's running worker.
  const queueRedis = benchRedis({ maxRetriesPerRequest: null });
  const queue = createQueue(queueRedis, { ...DEFAULT_QUEUE_SETTINGS, prefix: bullPrefix(prefix) });
  const jobs = features.map(checkJob);
  const rss: number[] = [];
  const rssTimer = setInterval(() => {
    const r = rssMb(botPid);
    if (r !== null) rss.push(r);
  }, 200);
  // The machine's speed before the sweep (and after it, below): CPU figures are read against it.
  const probeBefore = speedProbeMs();
  const redis0 = await redisUse(redis);
  await bot.ask('mark');
  const t0 = Date.now();
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  const queuedMs = Date.now() - t0;

  let progress: Stats = {};
  let posted: Stats = {};
  let nextReport = t0 + 10_000;
  let peakHeapMb = 0;
  let peakExternalMb = 0;
  for (;;) {
    await sleep(250);
    [progress, posted] = await Promise.all([bot.ask('progress'), slack.ask('progress')]);
    const now = Date.now();
    peakHeapMb = Math.max(peakHeapMb, progress.heapMb ?? 0);
    peakExternalMb = Math.max(peakExternalMb, progress.externalMb ?? 0);
    if (now >= nextReport) {
      nextReport += 10_000;
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      console.log(
        `  ${s(now - t0).padStart(7)}: ${progress.stored} checks stored, ${posted.threadPosts} posted; ` +
          `${progress.attempts} check runs, ${progress.paceRuns} pacing runs; queue ` +
          `waiting ${counts.waiting} active ${counts.active} delayed ${counts.delayed} completed ${counts.completed} ` +
          `failed ${counts.failed}; bot RSS ${rss[rss.length - 1]?.toFixed(0)} MB`,
      );
    }
    if (progress.stored! >= FEATURES && posted.threadPosts! >= FEATURES) break;
    if (now - t0 > SWEEP_LIMIT_MS || bot.proc.exitCode !== null) break;
  }
  await sleep(500);
  clearInterval(rssTimer);
  const endedAt = Date.now();
  const [botStats, slackStats, telemetryStats, counts, redis1] = await Promise.all([
    bot.ask('stats'),
    slack.ask('stats'),
    telemetry.ask('stats'),
    queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
    redisUse(redis),
  ]);
  const probeAfter = speedProbeMs();
  // Cross-check in Redis: every feature has its check stored.
  const pipeline = redis.pipeline();
  for (const f of features) pipeline.hlen(teamKey(prefix, 'T1', 'checks', f.id));
  const withCheck = ((await pipeline.exec()) ?? []).filter(([, n]) => Number(n) >= 1).length;

  // The PostHog sweep: POSTHOG_FEATURES more features, each its own PostHog event, their weekly
  // checks due at the same time; listed as due as the launch's catch-up lists them (Telemetry.due).
  const ph = await (async (): Promise<Stats | null> => {
    if (POSTHOG_FEATURES === 0) return null;
    const { MeasurementBatches } = await import('../src/telemetry/measurement-batches');
    const { MeasurementCache } = await import('../src/telemetry/measurement-cache');
    const { windowDuration } = await import('../src/domain/verdict');
    const batches = new MeasurementBatches(redis, prefix, new MeasurementCache(redis, prefix));
    const made: Feature[] = [];
    for (let i = 0; i < POSTHOG_FEATURES; i += 500) {
      const batch = Array.from({ length: Math.min(500, POSTHOG_FEATURES - i) }, (_, j) =>
        store.create('T1', (id) => ({
          ...featureFor(Number(id.slice(2)), id, expectationOf),
          expectation: expectationOf(
            `posthog:"bench event ${String(i + j).padStart(4, '0')}" >= 100 per week`,
          ),
        })),
      );
      made.push(...(await Promise.all(batch)));
    }
    const checkAt = DateTime.fromISO(CHECK_AT, { zone: 'utc' });
    for (const f of made) {
      await batches.due('posthog', f.expectation!.metric, windowDuration(f.expectation!.window), checkAt);
    }
    const before = await slack.ask('progress');
    const p0 = Date.now();
    const phJobs = made.map(checkJob);
    for (let i = 0; i < phJobs.length; i += 1000) await queue.addBulk(phJobs.slice(i, i + 1000));
    let measuredMs = Number.NaN;
    for (;;) {
      await sleep(250);
      const [p, q] = await Promise.all([bot.ask('progress'), slack.ask('progress')]);
      if (Number.isNaN(measuredMs) && p.stored! >= FEATURES + POSTHOG_FEATURES) measuredMs = Date.now() - p0;
      if (
        p.stored! >= FEATURES + POSTHOG_FEATURES &&
        q.threadPosts! - before.threadPosts! >= POSTHOG_FEATURES
      )
        break;
      if (Date.now() - p0 > SWEEP_LIMIT_MS || bot.proc.exitCode !== null) break;
    }
    const after = await slack.ask('progress');
    return {
      ...(await posthog.ask('stats')),
      measuredMs,
      postedMs: Date.now() - p0,
      posted: after.threadPosts! - before.threadPosts!,
    };
  })();

  await bot.ask('stop');
  await Promise.all([telemetry.ask('stop'), slack.ask('stop'), posthog.ask('stop')]);
  // Let the children exit by themselves (the bot writes its CPU profile then) before any kill.
  await Promise.race([
    Promise.all(
      children.map((c) =>
        c.exitCode === null ? new Promise<void>((resolve) => c.once('exit', () => resolve())) : undefined,
      ),
    ),
    sleep(10_000),
  ]);
  await queue.close();
  queueRedis.disconnect();
  const deleted = await cleanUp();
  const left = await deleteUnder(redis, prefix);
  redis.disconnect();
  clearTimeout(hardLimit);

  const wallS = (endedAt - t0) / 1000;
  const storedMs = botStats.lastStored ? botStats.lastStored - t0 : Number.NaN;
  const allStored = botStats.stored === FEATURES && withCheck === FEATURES;
  const allPosted = slackStats.threadPosts! >= FEATURES;
  const postedMs = slackStats.last! - t0;
  const peakRss = Math.max(...rss);
  const cpuS = (botStats.cpuUserMs! + botStats.cpuSystemMs!) / 1000;
  const posts = Math.max(1, slackStats.threadPosts!);
  const runsPerPost = (botStats.attempts! + botStats.paceRuns!) / posts;
  const rows: [string, string, string, string][] = [
    [
      'all checks measured and stored',
      allStored ? s(storedMs) : `not all: ${botStats.stored}/${FEATURES} in ${s(endedAt - t0)}`,
      `≤ ${TARGETS.sweepS} s`,
      verdict(allStored && storedMs <= TARGETS.sweepS * 1000),
    ],
    [
      'all check posts delivered',
      allPosted ? s(postedMs) : `not all: ${slackStats.threadPosts}/${FEATURES} in ${s(endedAt - t0)}`,
      // Slack's one post a second in the busiest channel sets a floor no sweep can beat; the
      // posting target is judged against it in the "last post vs the posting floor" row.
      `report (floor here ${s(postFloorMs)})`,
      allPosted ? '' : verdict(false),
    ],
    [
      'telemetry calls (distinct)',
      `${telemetryStats.total} (${telemetryStats.distinct})`,
      `${TARGETS.telemetryCalls}`,
      verdict(telemetryStats.total === TARGETS.telemetryCalls && telemetryStats.distinct === METRICS),
    ],
    [
      'posts to one channel in any 1 s',
      `max ${slackStats.maxIn1s} (shortest gap ${Number.isFinite(slackStats.minGapMs!) ? `${slackStats.minGapMs} ms` : '-'})`,
      `≤ ${TARGETS.postsPerChannelPerS}`,
      verdict(slackStats.maxIn1s! <= TARGETS.postsPerChannelPerS),
    ],
    [
      'job runs per post (check + pacing)',
      `${runsPerPost.toFixed(2)} (${botStats.attempts} + ${botStats.paceRuns} for ${slackStats.threadPosts} posts)`,
      `≤ ${TARGETS.runsPerPost}`,
      verdict(runsPerPost <= TARGETS.runsPerPost),
    ],
    [
      'last post vs the posting floor',
      allPosted
        ? `${s(postedMs)} = ${(postedMs / postFloorMs).toFixed(3)} × ${s(postFloorMs)}`
        : 'not all posted',
      `≤ ${TARGETS.floorRatio} ×`,
      verdict(allPosted && postedMs <= TARGETS.floorRatio * postFloorMs),
    ],
    [
      'Redis commands per post, sent by the bot',
      `${(botStats.redisSent! / posts).toFixed(1)} (${botStats.redisScripts} scripts among ${botStats.redisSent})`,
      'report',
      '',
    ],
    [
      'bot CPU over the sweep',
      `${cpuS.toFixed(1)} s`,
      FEATURES === 10_000 ? `≤ ${TARGETS.cpuS} s (half of 63 s)` : 'report',
      FEATURES === 10_000 ? verdict(cpuS <= TARGETS.cpuS) : '',
    ],
    [
      'bot RSS, peak',
      `${peakRss.toFixed(0)} MB (idle before ${rssIdle?.toFixed(0)} MB)`,
      `< ${TARGETS.rssMb} MB`,
      verdict(peakRss < TARGETS.rssMb),
    ],
  ];
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(...rows.map((r) => r[i]!.length), ['figure', 'measured', 'target', ''][i]!.length),
  );
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log('');
  console.log(line(['figure', 'measured', 'target', '']));
  for (const r of rows) console.log(line(r));
  console.log('');
  console.log(
    `jobs queued in ${s(queuedMs)} (addBulk, counted in the sweep); at the end the queue had completed ` +
      `${counts.completed}, delayed ${counts.delayed}, waiting ${counts.waiting}, active ${counts.active}, failed ${counts.failed}`,
  );
  console.log(
    `check job runs: ${botStats.attempts} for ${FEATURES} jobs (${(botStats.attempts! / FEATURES).toFixed(1)} each); ` +
      `pacing job runs: ${botStats.paceRuns} (${botStats.paceDelayed} ended in the delayed set, hold ${PACE_HOLD_MS ?? 'default'} ms); ` +
      `check jobs moved to the delayed set: ${botStats.waitChannel} waiting for their channel's slot, ${botStats.waitBusy} ` +
      `for a claim held elsewhere, ${botStats.waitSlack} for Slack's Retry-After; errors ${botStats.errors}`,
  );
  console.log(
    `bot process over ${wallS.toFixed(1)} s: CPU ${cpuS.toFixed(1)} s (${((cpuS / wallS) * 100).toFixed(0)}% of ` +
      `a core; user ${(botStats.cpuUserMs! / 1000).toFixed(1)} s, system ${(botStats.cpuSystemMs! / 1000).toFixed(1)} s), ` +
      `event-loop delay p99 ${botStats.eldP99!.toFixed(1)} ms / max ${botStats.eldMax!.toFixed(1)} ms, JS heap ` +
      `peak ${peakHeapMb.toFixed(0)} MB (end ${botStats.heapMb!.toFixed(0)} MB), external+buffers peak ` +
      `${peakExternalMb.toFixed(0)} MB (sampled every 250 ms); ${jsDir ? 'bot run as transpiled JavaScript' : 'bot run under ts-node'}; Redis CPU ${(redis1.cpuS - redis0.cpuS).toFixed(1)} s, ` +
      `${redis1.commands - redis0.commands} Redis commands server-wide, counting those run inside Lua scripts and ` +
      `every other client of this Redis (${((redis1.commands - redis0.commands) / posts).toFixed(1)} per post; only ` +
      `meaningful on an otherwise idle Redis)`,
  );
  console.log(
    `machine speed probe (bench/lib/speed-probe.ts, CPU of a fixed piece of work, lower is faster): ` +
      `${probeBefore.toFixed(0)} ms before the sweep, ${probeAfter.toFixed(0)} ms after: read CPU figures of ` +
      'different runs with it; `npm run bench:checks:ab` measures the code before issue 13 beside this one',
  );
  console.log(
    `telemetry: ${telemetryStats.total} calls, ${telemetryStats.distinct} distinct (query, time), at most ` +
      `${telemetryStats.maxPerKey} per distinct, ${telemetryStats.other} other calls, ${telemetryStats.peakInFlight} ` +
      `in flight at most; first → last answer ${s(telemetryStats.last! - telemetryStats.first!)}`,
  );
  console.log(
    `slack: ${slackStats.posts} chat.postMessage (${slackStats.threadPosts} in ${slackStats.threads} threads, ` +
      `${slackStats.duplicates} duplicates) over ${slackStats.channels} channels, ${slackStats.maxPerChannel} ` +
      `in the busiest; ${slackStats.updates} chat.update; ${slackStats.otherCalls} other calls`,
  );
  if (ph) {
    console.log('');
    console.log(
      `PostHog sweep: ${POSTHOG_FEATURES} checks over ${POSTHOG_FEATURES} events due at one time: ` +
        `${ph.queries} HogQL queries (${ph.batched} batched, ${ph.eventsAsked} events asked for; target ≤ 10: ` +
        `${verdict(ph.queries! <= 10)}), at most ${ph.maxPerMinute} in any minute (PostHog allows 240 a minute, ` +
        `2,400 an hour: ${verdict(ph.maxPerMinute! <= 240 && ph.queries! <= 2400)}), ${ph.definitions} event-definition ` +
        `lookups; all measured in ${s(ph.measuredMs!)}, ${ph.posted} posted in ${s(ph.postedMs!)}`,
    );
  }
  console.log(
    `checks stored (Redis): ${withCheck}/${FEATURES}; Redis keys deleted ${deleted}, left ${left}; ` +
      `total ${s(Date.now() - began)}`,
  );
}

// Run as a program (npm run bench:checks, or a child forked with --role); bench/scale-sweep.ts imports it.
if (require.main === module) {
  const roleIndex = process.argv.indexOf('--role');
  const role = roleIndex >= 0 ? (process.argv[roleIndex + 1] as Role) : undefined;
  const run =
    role === 'telemetry'
      ? runTelemetry
      : role === 'slack'
        ? runSlack
        : role === 'posthog'
          ? runPostHog
          : role === 'bot'
            ? runBot
            : main;
  run().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
