import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DateTime } from 'luxon';
import type { Feature } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { createPacingQueue } from '../../src/jobs/pacing';
import { checkJobId, createQueue, DEFAULT_QUEUE_SETTINGS } from '../../src/jobs/queue';
import { FeatureStore } from '../../src/store/feature-store';
import { bullPrefix } from '../../src/store/keys';
import { SIGNING_SECRET } from '../support/slack-requests';
import { SlackStandIn } from '../support/slack-stand-in';
import { drained } from '../support/wait';

/**
 * kill -9 of a worker in the middle of a sweep: another worker takes over the checks and the
 * channels' pacers it held, and every check is posted once.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function startWorker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('donedone is running')) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  ready.catch(() => undefined);
  return { child, ready };
}

let slackApi: SlackStandIn;
let prefix: string;
let redis: Redis;
const children: ChildProcess[] = [];

beforeEach(async () => {
  slackApi = new SlackStandIn();
  await slackApi.start();
  prefix = `test-pace-${randomUUID()}:`;
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await slackApi.stop();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

it('a worker killed -9 in the middle of a sweep: the next one finishes it, every check posted once', async () => {
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-pacing-test',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slackApi.url}/api/`,
    PROMETHEUS_URL: process.env.TEST_PROMETHEUS_URL ?? 'http://127.0.0.1:9',
    REDIS_URL,
    DONEDONE_REDIS_PREFIX: prefix,
    DONEDONE_ALLOW_VOLATILE_REDIS: '1',
    DONEDONE_ROLE: 'worker',
    PORT: '0',
    // 'donedone is running' is logged at info.
    LOG_LEVEL: 'info',
  };
  // Twenty features in two channels, each with a weekly check already due (a few minutes apart).
  const store = new FeatureStore(redis, prefix);
  const parsed = parseExpectation('bulk_export_total >= 200 per week within 30 days');
  if (!parsed.ok) throw new Error(parsed.error);
  const now = DateTime.utc();
  const features: Feature[] = [];
  for (let n = 0; n < 20; n++) {
    const launchedAt = now.minus({ days: 7, minutes: 30 - n }).toISO()!;
    features.push(
      await store.create('T1', () => ({
        title: `Swept ${n}`,
        ownerId: 'UOWNER',
        proposedBy: 'UOWNER',
        status: 'launched' as const,
        createdAt: now.minus({ days: 20 }).toISO()!,
        channel: n % 2 ? 'CKILLONE' : 'CKILLTWO',
        cardTs: `1790000002.${String(n).padStart(6, '0')}`,
        expectation: parsed.value,
        instrumented: 'yes' as const,
        launchedAt,
        firstUseAt: launchedAt,
      })),
    );
  }
  const first = startWorker(env);
  children.push(first.child);
  await first.ready;
  const queue = createQueue(redis, { ...DEFAULT_QUEUE_SETTINGS, prefix: bullPrefix(prefix) });
  const pacing = createPacingQueue(redis, bullPrefix(prefix));
  try {
    await queue.addBulk(
      features.map((f) => {
        const data = {
          team: f.team,
          id: f.id,
          launchedAt: f.launchedAt!,
          expectation: f.expectation!.text,
          at: DateTime.fromISO(f.launchedAt!).plus({ weeks: 1 }).toISO()!,
          kind: 'scheduled' as const,
        };
        return { name: 'check', data, opts: { jobId: checkJobId(data) } };
      }),
    );
    const postsOf = (f: Feature) =>
      slackApi
        .callsTo('chat.postMessage')
        .filter((c) => c.body.thread_ts === f.cardTs && String(c.body.text).startsWith(`${f.id}:`));
    // In the middle of the sweep: some posted, most not.
    await slackApi.waitFor(() => features.filter((f) => postsOf(f).length > 0).length >= 4, 60_000);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const postedBefore = features.filter((f) => postsOf(f).length > 0).length;
    expect(postedBefore).toBeLessThan(features.length);

    const second = startWorker(env);
    children.push(second.child);
    await second.ready;
    // The killed worker's jobs (its pacers among them) are taken over once their locks lapse (BullMQ's stalled check).
    await slackApi.waitFor(() => features.every((f) => postsOf(f).length > 0), 150_000);
    await drained(queue, 10_000);
    await drained(pacing, 10_000);
    for (const f of features) expect(postsOf(f)).toHaveLength(1);
  } finally {
    await queue.close();
    await pacing.close();
  }
}, 240_000);
