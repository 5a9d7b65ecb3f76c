/**
 * bench:scale: a sweep of due checks at scale, with 1, 2 and 4 worker processes. By default
 * 100,000 launched features in 1,000 workspaces over 10,000 distinct metric queries, 5 channels a
 * workspace (20 posts a channel), all at the same weekly checkpoint, against a telemetry stand-in
 * answering in 20 ms. For each number of workers: sweep time (all checks measured and stored; all
 * posted, against the posting floor of the busiest channel), telemetry calls (= distinct queries),
 * posts per channel per second (≤ 1), RSS per process (< 200 MB), job runs and CPU. The sweep should
 * scale with workers until the telemetry or Slack's per-channel floor is the limit.
 *
 * The processes are bench:checks' (bench/checks-sweep.ts): the real bot (`createDonedone`, worker
 * concurrency 20, production queue and pacing settings) run as transpiled JavaScript, a Prometheus
 * stand-in and a Slack Web API stand-in; this process seeds Redis, queues the jobs and samples each
 * bot's RSS from /proc. Every run has its own key prefix, deleted at the end.
 *
 * Settings: BENCH_FEATURES (100000), BENCH_TEAMS (1000), BENCH_METRICS (10000),
 * BENCH_CHANNELS_PER_TEAM (5), BENCH_WORKERS (`1,2,4`), BENCH_SWEEP_LIMIT_S (900 a run),
 * BENCH_LOG_LEVEL (warn). A full run needs several idle cores; a reduced one, e.g.
 * `BENCH_FEATURES=10000 BENCH_TEAMS=100 BENCH_METRICS=1000`, finishes in a few minutes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import type { Feature } from '../src/domain/model';
import { bullPrefix, teamKey } from '../src/store/keys';
import {
  type Child,
  checkJob,
  deleteKeys,
  LAUNCHED_AT,
  NOW,
  PER_CHANNEL_MS,
  rssMb,
  type Stats,
  startChild,
  TELEMETRY_DELAY_MS,
  transpile,
} from './checks-sweep';

const FEATURES = Number(process.env.BENCH_FEATURES ?? 100_000);
const TEAMS = Number(process.env.BENCH_TEAMS ?? 1_000);
const METRICS = Number(process.env.BENCH_METRICS ?? 10_000);
const CHANNELS_PER_TEAM = Number(process.env.BENCH_CHANNELS_PER_TEAM ?? 5);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const SWEEP_LIMIT_MS = Number(process.env.BENCH_SWEEP_LIMIT_S ?? 900) * 1000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGETS = { postsPerChannelPerS: 1, rssMb: 200 };

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface RunResult {
  workers: number;
  storedMs: number;
  postedMs: number;
  floorMs: number;
  allStored: boolean;
  allPosted: boolean;
  telemetry: Stats;
  slack: Stats;
  peakRss: number[];
  peakHeap: number[];
  runs: number;
  cpuS: number;
}

async function seed(redis: Redis, prefix: string): Promise<Feature[]> {
  const { FeatureStore } = await import('../src/store/feature-store');
  const { parseExpectation } = await import('../src/domain/parse-expectation');
  const store = new FeatureStore(redis, prefix);
  const features: Feature[] = [];
  for (let i = 0; i < FEATURES; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, FEATURES - i) }, (_, j) => {
      const n = i + j;
      const team = `T${String(n % TEAMS).padStart(4, '0')}`;
      const metric = `bench_metric_${String(n % METRICS).padStart(5, '0')}_total`;
      const parsed = parseExpectation(`${metric} >= ${100 + 10 * (n % 30)} per week within 30 days`);
      if (!parsed.ok) throw new Error(parsed.error);
      const channel = `C${team.slice(1)}X${Math.floor(n / TEAMS) % CHANNELS_PER_TEAM}`;
      return store.create(team, () => ({
        title: `Scale feature ${n}`,
        ownerId: `U${String(n % 997).padStart(4, '0')}`,
        proposedBy: 'U0000',
        status: 'launched' as const,
        createdAt: NOW.minus({ weeks: 3 }).toISO()!,
        channel,
        cardTs: `1790000000.${String(n).padStart(6, '0')}`,
        expectation: parsed.value,
        instrumented: 'yes' as const,
        launchedAt: LAUNCHED_AT,
        firstUseAt: LAUNCHED_AT,
      }));
    });
    features.push(...(await Promise.all(batch)));
  }
  return features;
}

/**
 * Installs every workspace as Bolt's OAuth flow does at its end (`storeInstallation` with the token
 * `oauth.v2.access` returned), each with its own bot token, encrypted under the run's key.
 */
async function install(redis: Redis, prefix: string, key: string): Promise<void> {
  const { loadConfig } = await import('../src/config');
  const { RedisInstallationStore } = await import('../src/workspaces/installation-store');
  const { TokenCipher } = await import('../src/workspaces/token-cipher');
  const { createLogger } = await import('../src/log');
  const oauth = loadConfig({
    SLACK_CLIENT_ID: 'bench-client',
    SLACK_CLIENT_SECRET: 'bench-client-secret',
    SLACK_STATE_SECRET: 'bench-state-secret',
    SLACK_SIGNING_SECRET: 'bench-signing-secret',
    DONEDONE_ENCRYPTION_KEY: key,
    PROMETHEUS_URL: 'http://127.0.0.1:9',
  }).oauth!;
  const store = new RedisInstallationStore({
    redis,
    prefix,
    cipher: new TokenCipher(oauth.key),
    now: () => NOW,
    log: createLogger('warn'),
  });
  for (let t = 0; t < TEAMS; t += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, TEAMS - t) }, (_, i) => {
        const team = `T${String(t + i).padStart(4, '0')}`;
        return store.storeInstallation({
          team: { id: team, name: `Bench ${team}` },
          enterprise: undefined,
          user: { id: 'U0000', token: undefined, scopes: undefined },
          bot: { id: `B${team}`, userId: `UBOT${team}`, token: `xoxb-bench-${team}`, scopes: ['chat:write'] },
          tokenType: 'bot',
          isEnterpriseInstall: false,
          appId: 'ABENCH',
        });
      }),
    );
  }
}

async function sweep(workers: number, botJs: string): Promise<RunResult> {
  const prefix = `bench:scale:${randomUUID()}:`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const children: Child[] = [];
  try {
    const [telemetry, slack] = await Promise.all([startChild('telemetry'), startChild('slack')]);
    children.push(telemetry, slack);
    const seedStart = Date.now();
    const encryptionKey = randomBytes(32).toString('base64');
    await install(redis, prefix, encryptionKey);
    const features = await seed(redis, prefix);
    const seedMs = Date.now() - seedStart;
    const bots: Child[] = [];
    for (let w = 0; w < workers; w++) {
      const bot = await startChild(
        'bot',
        {
          BENCH_PREFIX: prefix,
          BENCH_ENCRYPTION_KEY: encryptionKey,
          BENCH_SLACK_URL: slack.url,
          BENCH_TELEMETRY_URL: telemetry.url,
          NODE_PATH: join(__dirname, '..', 'node_modules'),
        },
        botJs,
      );
      bots.push(bot);
      children.push(bot);
    }
    const perChannel = new Map<string, number>();
    for (const f of features) perChannel.set(f.channel!, (perChannel.get(f.channel!) ?? 0) + 1);
    const busiest = Math.max(...perChannel.values());
    const floorMs = (busiest - 1) * PER_CHANNEL_MS;
    console.log(
      `${workers} worker process(es): ${FEATURES} features in ${TEAMS} workspaces, ${METRICS} distinct queries, ` +
        `${perChannel.size} channels (${busiest} posts in the busiest: ≥ ${s(floorMs)}); seeded in ${s(seedMs)}`,
    );

    const { createQueue, DEFAULT_QUEUE_SETTINGS } = await import('../src/jobs/queue');
    const queueRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createQueue(queueRedis, { ...DEFAULT_QUEUE_SETTINGS, prefix: bullPrefix(prefix) });
    const peakRss = bots.map(() => 0);
    const peakHeap = bots.map(() => 0);
    const rssTimer = setInterval(() => {
      bots.forEach((b, i) => {
        peakRss[i] = Math.max(peakRss[i]!, rssMb(b.proc.pid!) ?? 0);
      });
    }, 200);
    await Promise.all(bots.map((b) => b.ask('mark')));
    const t0 = Date.now();
    for (let i = 0; i < features.length; i += 1000) {
      await queue.addBulk(features.slice(i, i + 1000).map(checkJob));
    }
    let storedMs = Number.NaN;
    let nextReport = t0 + 15_000;
    for (;;) {
      await sleep(500);
      const progress = await Promise.all(bots.map((b) => b.ask('progress')));
      progress.forEach((p, i) => {
        peakHeap[i] = Math.max(peakHeap[i]!, p.heapMb ?? 0);
      });
      const posted = await slack.ask('progress');
      const stored = progress.reduce((n, p) => n + (p.stored ?? 0), 0);
      if (Number.isNaN(storedMs) && stored >= FEATURES) storedMs = Date.now() - t0;
      if (Date.now() >= nextReport) {
        nextReport += 15_000;
        console.log(
          `  ${s(Date.now() - t0).padStart(7)}: ${stored} stored, ${posted.threadPosts} posted; RSS ` +
            `${peakRss.map((r) => r.toFixed(0)).join('/')} MB peak`,
        );
      }
      if (stored >= FEATURES && posted.threadPosts! >= FEATURES) break;
      if (Date.now() - t0 > SWEEP_LIMIT_MS || bots.some((b) => b.proc.exitCode !== null)) break;
    }
    const postedAt = Date.now();
    clearInterval(rssTimer);
    const [botStats, slackStats, telemetryStats] = await Promise.all([
      Promise.all(bots.map((b) => b.ask('stats'))),
      slack.ask('stats'),
      telemetry.ask('stats'),
    ]);
    const pipeline = redis.pipeline();
    for (const f of features) pipeline.hlen(teamKey(prefix, f.team, 'checks', f.id));
    const withCheck = ((await pipeline.exec()) ?? []).filter(([, n]) => Number(n) >= 1).length;
    await Promise.all(bots.map((b) => b.ask('stop')));
    await queue.close();
    queueRedis.disconnect();
    return {
      workers,
      storedMs,
      postedMs: slackStats.threadPosts! >= FEATURES ? slackStats.last! - t0 : postedAt - t0,
      floorMs,
      allStored: withCheck === FEATURES,
      allPosted: slackStats.threadPosts! >= FEATURES,
      telemetry: telemetryStats,
      slack: slackStats,
      peakRss,
      peakHeap,
      runs: botStats.reduce((n, b) => n + (b.attempts ?? 0) + (b.paceRuns ?? 0), 0),
      cpuS: botStats.reduce((n, b) => n + ((b.cpuUserMs ?? 0) + (b.cpuSystemMs ?? 0)) / 1000, 0),
    };
  } finally {
    await Promise.all(children.map((c) => c.ask('stop').catch(() => ({}))));
    await sleep(500);
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const jsDir = mkdtempSync(join(tmpdir(), 'donedone-scale-sweep-'));
  const results: RunResult[] = [];
  try {
    const botJs = await transpile(jsDir);
    for (const workers of WORKERS) results.push(await sweep(workers, botJs));
  } finally {
    rmSync(jsDir, { recursive: true, force: true });
  }
  console.log('');
  console.log(
    `bench:scale: ${FEATURES} features, ${TEAMS} workspaces, ${METRICS} distinct queries, telemetry ` +
      `${TELEMETRY_DELAY_MS} ms; targets: telemetry calls = ${METRICS}, ≤ ${TARGETS.postsPerChannelPerS} post ` +
      `per channel per second, RSS < ${TARGETS.rssMb} MB per process`,
  );
  const header = [
    'workers',
    'all measured',
    'all posted (floor)',
    'telemetry calls (distinct)',
    'max posts/channel in 1 s',
    'peak RSS per process (JS heap)',
    'job runs/post',
    'bot CPU',
    'duplicates / wrong token',
  ];
  const rows = results.map((r) => [
    String(r.workers),
    r.allStored ? s(r.storedMs) : 'NOT ALL',
    `${r.allPosted ? s(r.postedMs) : `NOT ALL (${r.slack.threadPosts})`} (${s(r.floorMs)})`,
    `${r.telemetry.total} (${r.telemetry.distinct})${r.telemetry.total === METRICS ? '' : ' NOT MET'}`,
    `${r.slack.maxIn1s}${r.slack.maxIn1s! <= TARGETS.postsPerChannelPerS ? '' : ' NOT MET'}`,
    `${r.peakRss.map((m, i) => `${m.toFixed(0)} (${r.peakHeap[i]!.toFixed(0)})`).join(' / ')} MB${r.peakRss.every((m) => m < TARGETS.rssMb) ? '' : ' NOT MET'}`,
    (r.runs / Math.max(1, r.slack.threadPosts!)).toFixed(2),
    `${r.cpuS.toFixed(1)} s`,
    `${r.slack.duplicates} / ${r.slack.wrongToken}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
