/**
 * Slash-command acknowledgement latency at 200 signed requests a second: donedone as shipped
 * (`dist/main.js`, built first; real Redis, 1,000 features in T1) against a bare Bolt app that
 * only acknowledges, in the same run. Target: donedone's p99 within 1.2× of bare Bolt's (`TARGET_RATIO`).
 *
 * Each server runs in its own process, and Slack's Web API stand-in in another, so the load
 * generator's event loop is not the one being measured; the parent sends open-loop load (a fixed
 * schedule whatever the responses) to one server at a time, rotating in rounds so each sees the
 * same machine conditions, and each gets the same command sequence.
 *
 * Three targets are measured. `donedone` is the web tier, with its worker process running the
 * commands it queues. `bare` is bare Bolt while a `shadow` process queues the same commands, on
 * the same schedule, straight into donedone's request queue, so the worker, Redis and the
 * stand-ins carry the same load beside bare Bolt as beside the web tier: the target is judged
 * against it (on a 2-core machine the worker's CPU otherwise counts against the web tier only).
 * `alone` is bare Bolt on an otherwise idle machine, the comparison this bench made before; its
 * ratio is printed too.
 *
 * Run with `npm run bench` (node -r ts-node/register/transpile-only bench/ack-latency.ts).
 * `BENCH_MIX=ack-only` sends only `help` (no work after the ack); `BENCH_CPU_PROF=<dir>` writes a
 * CPU profile of the web process there (`BENCH_CPU_PROF_ROLE=worker` or `web,worker` profiles the worker).
 * `BENCH_WORKER_NICE=<n>` runs the worker process at that nice level (the web tier given the CPU
 * first, as on machines of its own); `BENCH_ANSWERS_FILE=<path>` writes every answer's send time,
 * latency, kind and whether it was in a measured round, tab-separated.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from '../test/fixtures/board';
import { deployedNodeFlags } from './lib/node-flags';
import {
  keepAliveAgent,
  onSchedule,
  type PreparedRequest,
  runPhase,
  type Sample,
  summarize,
} from './lib/open-loop';
import { speedProbeMs } from './lib/speed-probe';

const RATE = 200;
const FEATURES = 1000;
const WARM_UP_MS = Number(process.env.BENCH_WARM_UP_MS ?? 3_000);
/** The telemetry stand-in's answer time. */
const TELEMETRY_MS = Number(process.env.BENCH_TELEMETRY_MS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Load sent to a server before each measured phase and discarded: the other server may still be busy. */
const LEAD_IN_MS = Number(process.env.BENCH_LEAD_IN_MS ?? 3_000);
const MEASURED_MS = 5_000;
const TARGET_RATIO = 1.2;
/** Nothing here may run longer than this, whatever goes wrong. */
const HARD_LIMIT_MS = 360_000;

/** `bare`: bare Bolt beside the worker's load; `alone`: bare Bolt with the machine otherwise idle. */
type TargetName = 'bare' | 'alone' | 'donedone';
const NAMES: readonly TargetName[] = ['bare', 'alone', 'donedone'];
const LABEL: Record<TargetName, string> = { bare: 'bare Bolt', alone: 'bare alone', donedone: 'donedone' };

// ---------------------------------------------------------------------------------------------
// The command mix: the same seeded sequence for both servers.

type MixEntry = {
  weight: number;
  kind: string;
  text: (r: () => number, n: number) => string;
  /** Answered in the acknowledgement itself: the web tier queues nothing for it. */
  answeredInAck?: true;
};
const MIXES: Record<string, { entries: MixEntry[]; description: string }> = {
  realistic: {
    entries: [
      { weight: 30, kind: 'list mine', text: () => 'list mine' },
      { weight: 30, kind: 'show', text: (r) => `show F-${1 + Math.floor(r() * FEATURES)}` },
      { weight: 15, kind: 'check', text: (r) => `check F-${1 + Math.floor(r() * FEATURES)}` },
      { weight: 20, kind: 'help', text: () => 'help', answeredInAck: true },
      {
        weight: 5,
        kind: 'propose',
        text: (_r, n) => `propose Bench feature ${n} expect bulk_export_total >= 200 per week`,
      },
    ],
    description:
      'realistic: 30% `list mine` (users U001–U020, ~50 features each), 30% `show F-<1..1000>`, ' +
      '15% `check F-<1..1000>`, 20% `help`, 5% `propose Bench feature <n> expect bulk_export_total >= 200 per week`; ' +
      'all but help do real work after the ack in the same process (Redis, the Web API stand-in, ' +
      'and for check/propose a Prometheus stand-in answering in 20 ms)',
  },
  // The acknowledgement path alone: `help` is answered in the ack and does nothing after it.
  'ack-only': {
    entries: [{ weight: 1, kind: 'help', text: () => 'help', answeredInAck: true }],
    description: 'ack-only: 100% `help` (answered in the ack itself, no work after it)',
  },
};
const MIX_NAME = process.env.BENCH_MIX ?? 'realistic';
// `only:<kind>` (e.g. `only:show`) sends one kind of the realistic mix, to cost it on its own.
const ONLY = MIX_NAME.startsWith('only:') ? MIX_NAME.slice('only:'.length) : undefined;
const MIX = ONLY ? MIXES.realistic!.entries.filter((e) => e.kind === ONLY) : (MIXES[MIX_NAME]?.entries ?? []);
const MIX_TEXT = ONLY ? `only \`${ONLY}\` from the realistic mix` : (MIXES[MIX_NAME]?.description ?? '');

type Command = { kind: string; text: string; user: string; answeredInAck: boolean };

function commandsFor(seed: number, count: number): Command[] {
  const r = prng(seed);
  const totalWeight = MIX.reduce((s, m) => s + m.weight, 0);
  const out: Command[] = [];
  for (let i = 0; i < count; i++) {
    let x = r() * totalWeight;
    let entry = MIX[MIX.length - 1]!;
    for (const m of MIX) {
      x -= m.weight;
      if (x < 0) {
        entry = m;
        break;
      }
    }
    const user = `U${String(1 + Math.floor(r() * 20)).padStart(3, '0')}`;
    out.push({
      kind: entry.kind,
      text: entry.text(r, seed * 100_000 + i),
      user,
      answeredInAck: entry.answeredInAck === true,
    });
  }
  return out;
}

/**
 * A Prometheus stand-in answering every query after TELEMETRY_MS (20 ms, as the issue sets): an
 * instant query gets one sample of 100, a range query (first-use search) nothing yet.
 */
async function startTelemetryStandIn(): Promise<{ url: string; close(): void }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    req.resume();
    setTimeout(() => {
      const result =
        path === '/api/v1/query'
          ? { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '100'] }] }
          : path === '/api/v1/query_range'
            ? { resultType: 'matrix', result: [] }
            : [];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: result }));
    }, TELEMETRY_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

// ---------------------------------------------------------------------------------------------
// Child processes: one server each, answering the parent over IPC.

type ToChild = { id: number; type: 'mark' | 'sample' | 'stop' | 'feed'; seed?: number; durationMs?: number };
type Ready = { type: 'ready'; port: number; responseBase: string; features: number; telemetryUrl?: string };
type Reply = { type: 'reply'; id: number; data: Record<string, number> };

type ChildKind = 'bare' | 'slack' | 'shadow';

async function serve(target: ChildKind): Promise<void> {
  const send = (m: Ready | Reply) => process.send?.(m);
  // 10 ms, as prom-client samples donedone's own, so the two figures compare.
  const eld = monitorEventLoopDelay({ resolution: 10 });
  let cpuMark = process.cpuUsage();
  let timeMark = performance.now();
  let stop: () => Promise<Record<string, number>>;
  let feed: (seed: number, durationMs: number) => Promise<number> = async () => 0;

  if (target === 'shadow') {
    // The worker's load without the web tier: while bare Bolt is measured, the same commands on the
    // same schedule go straight into donedone's request queue as the web tier would queue them, so
    // the worker, Redis and the stand-ins do the same work beside bare Bolt as beside the web tier.
    const { benchRedis } = await import('./redis-target');
    const { createRequestQueue, enqueueRequest } = await import('../src/tiers/requests');
    const { bullPrefix } = await import('../src/store/keys');
    const redis = benchRedis({ maxRetriesPerRequest: null });
    const queue = createRequestQueue(redis, bullPrefix(process.env.BENCH_SHADOW_PREFIX!));
    const responseBase = process.env.BENCH_SHADOW_RESPONSE_BASE!;
    let seq = 0;
    let fed = 0;
    feed = (seed, durationMs) => {
      const commands = commandsFor(seed, Math.round((RATE * durationMs) / 1000));
      const adds: Promise<unknown>[] = [];
      return new Promise((resolve) => {
        const finish = () =>
          void Promise.allSettled(adds).then((settled) => {
            const ok = settled.filter((x) => x.status === 'fulfilled').length;
            fed += ok;
            resolve(ok);
          });
        if (commands.length === 0) return finish();
        // Open loop, as the generator: whatever is due, whatever the adds do.
        onSchedule(RATE, commands.length, (i) => {
          const c = commands[i]!;
          if (!c.answeredInAck) adds.push(enqueueRequest(queue, commandFields(c, `s${++seq}`, responseBase)));
          if (i === commands.length - 1) finish();
        });
      });
    };
    stop = async () => {
      await queue.close();
      redis.disconnect();
      return { fed };
    };
    send({ type: 'ready', port: 0, responseBase, features: 0 });
  } else if (target === 'slack') {
    // Slack runs on Slack's machines, not beside the bot: here it yields the CPU to the servers
    // measured (nice 10) rather than compete with them as an equal.
    if (process.env.BENCH_SLACK_NICE !== '0') setPriority(10);
    const { SlackStandIn } = await import('../test/support/slack-stand-in');
    const slackApi = new SlackStandIn();
    await slackApi.start();
    // When each answer reached its response_url (ms since the epoch), by response id.
    const answeredAt: Record<string, number> = {};
    let responses = 0;
    let calls = 0;
    const take = () => {
      for (const r of slackApi.responses) answeredAt[`answer:${r.id}`] ??= r.at ?? Date.now();
      responses += slackApi.responses.length;
      calls += slackApi.calls.length;
      slackApi.reset();
    };
    const drain = setInterval(take, 500);
    const telemetry = await startTelemetryStandIn();
    stop = async () => {
      clearInterval(drain);
      take();
      await slackApi.stop();
      telemetry.close();
      return { responses, calls, ...answeredAt };
    };
    send({ type: 'ready', port: 0, responseBase: slackApi.url, features: 0, telemetryUrl: telemetry.url });
  } else {
    const { App, LogLevel } = await import('@slack/bolt');
    const { SlackStandIn } = await import('../test/support/slack-stand-in');
    const { SIGNING_SECRET } = await import('../test/support/slack-requests');
    const slackApi = new SlackStandIn();
    await slackApi.start();
    const app = new App({
      token: 'xoxb-test',
      signingSecret: SIGNING_SECRET,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: `${slackApi.url}/api/` },
    });
    app.command('/donedone', async ({ ack }) => {
      await ack();
    });
    const server = (await app.start(0)) as unknown as Server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    stop = async () => {
      await app.stop().catch(() => undefined);
      await slackApi.stop();
      return {};
    };
    send({ type: 'ready', port, responseBase: slackApi.url, features: 0 });
  }

  let stopping = false;
  const shutDown = async (id?: number) => {
    if (stopping) return;
    stopping = true;
    const data = await stop().catch(() => ({}));
    // process.send is asynchronous: exit once the reply is written, or it may never reach the parent.
    if (id !== undefined && process.send) process.send({ type: 'reply', id, data }, () => process.exit(0));
    else process.exit(0);
  };
  // If the parent dies, still clean up Redis and go.
  process.on('disconnect', () => void shutDown());
  process.on('message', (m: ToChild) => {
    if (m.type === 'mark') {
      eld.reset();
      eld.enable();
      cpuMark = process.cpuUsage();
      timeMark = performance.now();
      send({ type: 'reply', id: m.id, data: {} });
    } else if (m.type === 'sample') {
      eld.disable();
      const cpu = process.cpuUsage(cpuMark);
      send({
        type: 'reply',
        id: m.id,
        data: {
          rssMb: process.memoryUsage().rss / 2 ** 20,
          cpuPercent: ((cpu.user + cpu.system) / 1000 / (performance.now() - timeMark)) * 100,
          eldP99: eld.percentile(99) / 1e6,
          eldMax: eld.max / 1e6,
        },
      });
    } else if (m.type === 'feed') {
      void feed(m.seed ?? 0, m.durationMs ?? 0).then((fed) =>
        send({ type: 'reply', id: m.id, data: { fed } }),
      );
    } else if (m.type === 'stop') {
      void shutDown(m.id);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The parent: starts both servers, sends the load, prints the figures.

interface Target {
  name: TargetName | 'slack' | 'shadow';
  child: ChildProcess;
  port: number;
  responseBase: string;
  features: number;
  /** The Slack child's telemetry stand-in. */
  telemetryUrl?: string;
  /** donedone's Redis key prefix. */
  prefix?: string;
  ask(type: ToChild['type'], extra?: Omit<ToChild, 'id' | 'type'>): Promise<Record<string, number>>;
}

function startTarget(name: ChildKind, env: Record<string, string> = {}): Promise<Target> {
  const child = fork(__filename, ['--serve', name], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, (data: Record<string, number>) => void>();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`${name} server exited early (code ${code})`));
      // Whatever was asked and not answered is answered with nothing, never waited for forever.
      if (waiting.size > 0) console.error(`${name} exited with ${waiting.size} question(s) unanswered`);
      for (const answer of waiting.values()) answer({});
      waiting.clear();
    });
    child.on('message', (m: Ready | Reply) => {
      if (m.type === 'reply') {
        waiting.get(m.id)?.(m.data);
        waiting.delete(m.id);
        return;
      }
      resolve({
        name,
        child,
        port: m.port,
        responseBase: m.responseBase,
        features: m.features,
        ...(m.telemetryUrl ? { telemetryUrl: m.telemetryUrl } : {}),
        ask(type, extra) {
          const id = ++nextId;
          return new Promise((res) => {
            waiting.set(id, res);
            child.send({ ...extra, id, type } satisfies ToChild);
          });
        },
      });
    });
  });
}

/**
 * donedone as it is deployed: the built `dist/main.js` twice, a web process
 * (`DONEDONE_ROLE=web`: verifies, acknowledges, queues) and a worker process
 * (`DONEDONE_ROLE=worker`: runs the commands and answers), real Redis under a fresh prefix
 * seeded with FEATURES features, the Slack stand-in process as its Web API, and a Prometheus
 * stand-in answering in 20 ms. The ack latency measured is the web process's. Its CPU and memory are read from /proc (all its threads), its main
 * thread's event-loop delay from its own /metrics.
 */
async function startShippedBot(slackBase: string, telemetryUrl: string): Promise<Target> {
  const root = join(__dirname, '..');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  const { benchRedis, benchRedisEnv, deleteUnder } = await import('./redis-target');
  const { FeatureStore } = await import('../src/store/feature-store');
  const { generateFeatures } = await import('../test/fixtures/board');
  const { SIGNING_SECRET } = await import('../test/support/slack-requests');
  const { DateTime } = await import('luxon');
  const prefix = `bench:${randomUUID()}:`;
  const redis = benchRedis();
  const store = new FeatureStore(redis, prefix);
  // One at a time, so F-n in Redis is F-n of the generator (ids come from Redis' counter).
  for (const f of generateFeatures(FEATURES, DateTime.utc())) {
    const { id: _id, team: _team, ...rest } = f;
    await store.create('T1', () => rest);
  }
  const features = (await store.list('T1')).length;
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const launch = (role: 'web' | 'worker') => {
    const profiled = (process.env.BENCH_CPU_PROF_ROLE ?? 'web').split(',').includes(role);
    const child = spawn(
      process.execPath,
      [...deployedNodeFlags(), ...(profiled ? profile : []), join(root, 'dist/main.js')],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          // Node's flags as a deployment sets them (the Dockerfile's NODE_OPTIONS), to compare.
          ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
          SLACK_BOT_TOKEN: 'xoxb-bench',
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: `${slackBase}/api/`,
          PROMETHEUS_URL: telemetryUrl,
          ...benchRedisEnv(),
          DONEDONE_REDIS_PREFIX: prefix,
          DONEDONE_ALLOW_VOLATILE_REDIS: '1',
          DONEDONE_ROLE: role,
          PORT: '0',
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    const port = new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        // Keep only the start-up lines; after that the log is read and dropped, as a log shipper would.
        if (output.length < 100_000) output += chunk.toString();
        const m = /"port":(\d+).*donedone is running/.exec(output);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) =>
        reject(new Error(`donedone (${role}) exited early (code ${code}):\n${output}`)),
      );
    });
    return { child, port };
  };
  // The web tier acknowledges and queues; the worker (its own process) does the work and answers.
  const web = launch('web');
  const worker = launch('worker');
  const workerNice = Number(process.env.BENCH_WORKER_NICE ?? 0);
  if (workerNice) setPriority(worker.child.pid!, workerNice);
  const child = web.child;
  const [port] = await Promise.all([web.port, worker.port]);
  const pid = child.pid!;
  const ticks = () => {
    // utime + stime of the whole process, and of its main thread (task id = pid), in clock ticks.
    const fields = (file: string) => readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    const all = fields(`/proc/${pid}/stat`);
    const main = fields(`/proc/${pid}/task/${pid}/stat`);
    return { all: Number(all[11]) + Number(all[12]), main: Number(main[11]) + Number(main[12]) };
  };
  const rssOf = (p: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))![1]) / 1024;
  const rssMb = () => rssOf(pid);
  const workerPid = worker.child.pid!;
  const workerTicks = () => {
    const f = readFileSync(`/proc/${workerPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  let workerMark = workerTicks();
  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    return {
      eldP99: value('nodejs_eventloop_lag_p99_seconds') * 1000,
      eldMax: value('nodejs_eventloop_lag_max_seconds') * 1000,
    };
  };
  const TICK_MS = 10; // CLK_TCK is 100 on Linux
  let mark = { ...ticks(), at: performance.now() };
  return {
    name: 'donedone',
    child,
    port,
    prefix,
    responseBase: slackBase,
    features,
    async ask(type) {
      if (type === 'mark') {
        await scrape(); // prom-client resets its event-loop histogram on every scrape
        mark = { ...ticks(), at: performance.now() };
        workerMark = workerTicks();
        return {};
      }
      if (type === 'sample') {
        const now = ticks();
        const elapsed = performance.now() - mark.at;
        return {
          cpuPercent: (((now.all - mark.all) * TICK_MS) / elapsed) * 100,
          mainCpuPercent: (((now.main - mark.main) * TICK_MS) / elapsed) * 100,
          rssMb: rssMb(),
          workerCpuPercent: (((workerTicks() - workerMark) * TICK_MS) / elapsed) * 100,
          workerRssMb: rssOf(workerPid),
          ...(await scrape()),
        };
      }
      const final = { features: (await store.list('T1')).length };
      for (const c of [child, worker.child]) c.kill('SIGTERM');
      await Promise.all([child, worker.child].map((c) => new Promise((resolve) => c.once('exit', resolve))));
      const keysDeleted = await deleteUnder(redis, prefix);
      redis.disconnect();
      return { ...final, keysDeleted };
    },
  };
}

let requestSeq = 0;

/** When each donedone request was sent (ms since the epoch), by its response id, and its kind. */
const sentAt = new Map<string, { at: number; kind: string; measured: boolean }>();
/** Whether the requests being sent are a measured round's (not a warm-up or a lead-in). */
let measuring = false;

/**
 * A slash command's form fields as Slack sends them; `id` names its response_url and trigger
 * (never reused: the web tier's job id is a digest of the body).
 */
function commandFields(c: Command, id: string, responseBase: string): Record<string, string> {
  return {
    token: 'legacy',
    team_id: 'T1',
    team_domain: 'acme',
    channel_id: 'C1',
    channel_name: 'planning',
    user_id: c.user,
    user_name: 'maria',
    command: '/donedone',
    text: c.text,
    api_app_id: 'A1',
    response_url: `${responseBase}/response/${id}`,
    trigger_id: `trigger-${id}`,
  };
}

function preparer(target: Target, commands: Command[]) {
  // Loaded lazily so the children do not pay for it twice.
  const { sign } =
    require('../test/support/slack-requests') as typeof import('../test/support/slack-requests');
  return (i: number): PreparedRequest => {
    const c = commands[i % commands.length]!;
    // One sequence across phases: response ids (and trigger ids) are never reused.
    const seq = ++requestSeq;
    const body = new URLSearchParams(commandFields(c, `b${seq}`, target.responseBase)).toString();
    if (target.name === 'donedone')
      sentAt.set(`b${seq}`, { at: Date.now(), kind: c.kind, measured: measuring });
    return {
      kind: c.kind,
      path: '/slack/events',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) },
      body,
    };
  };
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-').padStart(8);

async function main(): Promise<void> {
  if (MIX.length === 0) {
    throw new Error(
      `BENCH_MIX must be one of ${Object.keys(MIXES).join(', ')}, or only:<kind of the realistic mix>`,
    );
  }
  const began = Date.now();
  // Before anything starts, on an idle machine: how fast it is this hour (lower is faster).
  const probeBefore = speedProbeMs();
  const children: ChildProcess[] = [];
  const hardLimit = setTimeout(() => {
    console.error(`bench: gave up after ${HARD_LIMIT_MS / 1000} s`);
    for (const c of children) c.kill();
    process.exit(1);
  }, HARD_LIMIT_MS);
  const slackApi = await startTarget('slack');
  children.push(slackApi.child);
  const [bare, donedone] = await Promise.all([
    startTarget('bare'),
    startShippedBot(slackApi.responseBase, slackApi.telemetryUrl!),
  ]);
  children.push(bare.child, donedone.child);
  const shadow = await startTarget('shadow', {
    BENCH_SHADOW_PREFIX: donedone.prefix!,
    BENCH_SHADOW_RESPONSE_BASE: slackApi.responseBase,
  });
  children.push(shadow.child);
  const targets: Record<TargetName, Target> = { bare, alone: bare, donedone };
  const agents = { bare: keepAliveAgent(), alone: keepAliveAgent(), donedone: keepAliveAgent() };
  const phase = async (name: TargetName, durationMs: number, seed: number) => {
    const sending = runPhase({
      host: '127.0.0.1',
      port: targets[name].port,
      ratePerSecond: RATE,
      durationMs,
      make: preparer(targets[name], commandsFor(seed, Math.round((RATE * durationMs) / 1000))),
      agent: agents[name],
    });
    // Beside bare Bolt, the worker gets the same commands on the same schedule from the shadow.
    if (name === 'bare') await shadow.ask('feed', { seed, durationMs });
    return sending;
  };

  console.log(
    `ack latency, open loop at ${RATE} signed requests/s to one server at a time: ${WARM_UP_MS / 1000} s warm-up ` +
      `per server, then ${ROUNDS} rounds of ${MEASURED_MS / 1000} s measured per server (order rotating, ` +
      `each after a ${LEAD_IN_MS / 1000} s discarded lead-in); latency = request sent → HTTP response (the ack) ` +
      `received, keep-alive node:http`,
  );
  console.log(`mix: ${MIX_TEXT}`);
  console.log(`donedone: ${donedone.features} features stored in T1 before the load`);
  console.log(
    `bare Bolt is measured twice: "${LABEL.bare}" beside the same worker load as donedone's web tier (while it is ` +
      `sent a command, the same command goes into donedone's request queue from a third process, so the worker, ` +
      `Redis and the stand-ins work as they do beside the web tier), and "${LABEL.alone}" with the rest of the machine idle`,
  );

  for (const name of NAMES) await phase(name, WARM_UP_MS, 999);

  const measured: Record<TargetName, Sample[][]> = { bare: [], alone: [], donedone: [] };
  const server: Record<TargetName, Record<string, number>[]> = { bare: [], alone: [], donedone: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = NAMES.map((_, i) => NAMES[(i + round) % NAMES.length]!);
    for (const name of order) {
      const t = targets[name];
      await phase(name, LEAD_IN_MS, 500 + round);
      await t.ask('mark');
      if (name === 'bare') await donedone.ask('mark');
      measuring = true;
      measured[name].push(await phase(name, MEASURED_MS, round + 1));
      measuring = false;
      const sample = await t.ask('sample');
      if (name === 'bare') sample.workerCpuPercent = (await donedone.ask('sample')).workerCpuPercent!;
      server[name].push(sample);
    }
  }

  const summaries = Object.fromEntries(NAMES.map((n) => [n, summarize(measured[n])])) as Record<
    TargetName,
    ReturnType<typeof summarize>
  >;
  console.log('');
  console.log(
    `${'server'.padEnd(12)}${'requests'.padStart(9)}${'rate/s'.padStart(8)}${'p50 ms'.padStart(8)}` +
      `${'p90 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}${'errors'.padStart(8)}`,
  );
  for (const name of NAMES) {
    const s = summaries[name];
    console.log(
      `${LABEL[name].padEnd(12)}${String(s.requests).padStart(9)}${s.achievedRate.toFixed(1).padStart(8)}` +
        `${ms(s.p50)}${ms(s.p90)}${ms(s.p99)}${ms(s.max)}${String(s.errors).padStart(8)}`,
    );
  }
  const ratio = summaries.donedone.p99 / summaries.bare.p99;
  console.log(
    `\np99 donedone / ${LABEL.bare} (the same worker load beside each) = ${ratio.toFixed(2)}× ` +
      `(target ≤ ${TARGET_RATIO}×): ${ratio <= TARGET_RATIO ? 'MET' : 'NOT MET'}`,
  );
  console.log(
    `p99 donedone / ${LABEL.alone} (the worker's load beside donedone only) = ` +
      `${(summaries.donedone.p99 / summaries.alone.p99).toFixed(2)}×`,
  );
  for (const other of ['bare', 'alone'] as const) {
    const perRound = measured[other].map((b, i) => {
      const pb = summarize([b]).p99;
      const pd = summarize([measured.donedone[i]!]).p99;
      return `round ${i + 1}: ${pd.toFixed(2)} / ${pb.toFixed(2)} ms = ${(pd / pb).toFixed(2)}×`;
    });
    console.log(`p99 per round (donedone / ${LABEL[other]}): ${perRound.join('; ')}`);
  }

  for (const name of NAMES) {
    const kinds = [...new Set(measured[name].flat().map((s) => s.kind))];
    const perKind = kinds.map((k) => {
      const s = summarize([measured[name].flat().filter((x) => x.kind === k)]);
      return `${k} ${s.p50.toFixed(2)}/${s.p99.toFixed(2)} (${s.requests})`;
    });
    console.log(`${LABEL[name]} p50/p99 ms by command: ${perKind.join(', ')}`);
  }
  for (const name of NAMES) {
    const rows = server[name];
    const avg = (k: string) => rows.reduce((s, r) => s + (r[k] ?? 0), 0) / rows.length;
    const max = (k: string) => Math.max(...rows.map((r) => r[k] ?? 0));
    console.log(
      `${LABEL[name]} process while measured: CPU ${avg('cpuPercent').toFixed(0)}% of a core` +
        (name === 'donedone'
          ? ` (web tier; the worker process ${avg('workerCpuPercent').toFixed(0)}%, RSS peak ${max('workerRssMb').toFixed(0)} MB)`
          : name === 'bare'
            ? ` (the worker process beside it ${avg('workerCpuPercent').toFixed(0)}%)`
            : '') +
        `, main event-loop delay ` +
        `p99 ${max('eldP99').toFixed(1)} ms / max ${max('eldMax').toFixed(1)} ms, RSS ${rows[rows.length - 1]!.rssMb!.toFixed(0)} MB ` +
        `(peak ${max('rssMb').toFixed(0)} MB)`,
    );
  }
  for (const name of NAMES) {
    const s = summaries[name];
    console.log(
      `generator lag sending to ${LABEL[name]}: p99 ${s.lagP99.toFixed(2)} ms, max ${s.lagMax.toFixed(2)} ms`,
    );
  }

  for (const agent of Object.values(agents)) agent.destroy();
  // Let donedone finish its work after the last acks before counting it and stopping it; the Slack
  // stand-in goes last, so that no answer still on its way finds it gone.
  await sleep(1_000);
  const stopped = async (t: Target) => {
    const t0 = Date.now();
    const data = await t.ask('stop');
    console.log(`${t.name} stopped in ${Date.now() - t0} ms`);
    return data;
  };
  await Promise.all([stopped(shadow), stopped(bare)]);
  const done = await stopped(donedone);
  const slackCounts = await stopped(slackApi);
  const final = { ...done, ...slackCounts };
  // Request sent → its answer posted to the response_url by the worker (commands answered in the
  // ack itself, like `help`, post nothing), for the requests of the measured rounds, as the acks are;
  // the warm-up's and lead-ins' answers (a cold process) are given beside them.
  const answersOf = (measuredOnly: boolean) =>
    [...sentAt]
      .flatMap(([id, s]) => {
        const at = (slackCounts as Record<string, number>)[`answer:${id}`];
        return at === undefined || (measuredOnly && !s.measured) ? [] : [at - s.at];
      })
      .sort((a, b) => a - b);
  const answerMs = answersOf(true);
  const allAnswers = answersOf(false);
  const pctOf = (list: number[], p: number) =>
    list[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] ?? Number.NaN;
  const pct = (p: number) => pctOf(answerMs, p);
  console.log(
    `request → answer posted (web acks and queues, the worker runs it, telemetry answering in ${TELEMETRY_MS} ms), ` +
      `measured rounds: ${answerMs.length} answers, p50 ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${pct(100).toFixed(0)} ms ` +
      `(target p99 ≤ 100 ms): ${pct(99) <= 100 ? 'MET' : 'NOT MET'}; with the warm-up and lead-ins: ` +
      `${allAnswers.length} answers, p99 ${pctOf(allAnswers, 99).toFixed(0)} ms, max ${pctOf(allAnswers, 100).toFixed(0)} ms`,
  );
  if (process.env.BENCH_ANSWERS_FILE) {
    const rows = [...sentAt].flatMap(([id, sent]) => {
      const at = (slackCounts as Record<string, number>)[`answer:${id}`];
      return at === undefined ? [] : [`${sent.at}\t${at - sent.at}\t${sent.kind}\t${sent.measured}`];
    });
    writeFileSync(process.env.BENCH_ANSWERS_FILE, `${rows.join('\n')}\n`);
  }
  // By kind: which work the slow answers are.
  const byKind = new Map<string, number[]>();
  for (const [id, sent] of sentAt) {
    const at = (slackCounts as Record<string, number>)[`answer:${id}`];
    if (at === undefined || !sent.measured) continue;
    const list = byKind.get(sent.kind) ?? [];
    list.push(at - sent.at);
    byKind.set(sent.kind, list);
  }
  console.log(
    `answer p50/p99 ms by command (measured rounds): ${[...byKind]
      .map(([kind, ms]) => {
        ms.sort((a, b) => a - b);
        const at = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
        return `${kind} ${at(50).toFixed(0)}/${at(99).toFixed(0)} (${ms.length})`;
      })
      .join(', ')}`,
  );
  console.log(
    `donedone after its acks (and the shadow's commands): ${final.responses} response_url posts, ${final.calls} Web API calls; ` +
      `${final.features} features at the end (propose adds some); ` +
      `Redis keys under its prefix, deleted after: ${final.keysDeleted}`,
  );
  console.log(
    `machine speed probe (bench/lib/speed-probe.ts, CPU of a fixed piece of work, lower is faster): ` +
      `${probeBefore.toFixed(0)} ms before the run, ${speedProbeMs().toFixed(0)} ms after: read latency and CPU ` +
      'figures of different runs with it',
  );
  console.log(`total ${((Date.now() - began) / 1000).toFixed(1)} s`);
  clearTimeout(hardLimit);
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3] as ChildKind).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
