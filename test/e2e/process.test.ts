import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DateTime } from 'luxon';
import { bullPrefix, teamKey } from '../../src/store/keys';
import { REQUESTS_QUEUE } from '../../src/tiers/requests';
import { FakeSlack, SIGNING_SECRET } from '../support/slack-requests';
import { SlackStandIn } from '../support/slack-stand-in';
import { drained } from '../support/wait';

const API_TOKEN = 'process-test-token-0123456789';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Runs `src/main.ts` as its own process, the way `npm start` runs the built bot. */
function startMain(env: Record<string, string>): {
  child: ChildProcess;
  port: Promise<number>;
  output: () => string;
} {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"port":(\d+).*donedone is running/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  port.catch(() => undefined);
  return { child, port, output: () => output };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

let slackApi: SlackStandIn;
let prefix: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  slackApi = new SlackStandIn();
  await slackApi.start();
  prefix = `test-proc-${randomUUID()}:`;
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await slackApi.stop();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** A launch cannot precede its proposal: the feature is said to have been proposed `days` ago. */
async function proposedDaysAgo(id: string, days: number): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const key = teamKey(prefix, 'T1', 'f', id);
  const feature = JSON.parse((await redis.hget(key, 'json'))!);
  feature.createdAt = DateTime.utc().minus({ days }).toISO();
  await redis.hset(key, 'json', JSON.stringify(feature));
  redis.disconnect();
}

/** Waits until the request queue under `prefix` has nothing waiting, active or due. */
async function drainedOf(keyPrefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const queue = new Queue(REQUESTS_QUEUE, { connection: redis, prefix: bullPrefix(keyPrefix) });
  try {
    await drained(queue);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

function env(): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-process-test',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slackApi.url}/api/`,
    PROMETHEUS_URL: process.env.TEST_PROMETHEUS_URL ?? 'http://127.0.0.1:9',
    REDIS_URL,
    DONEDONE_REDIS_PREFIX: prefix,
    DONEDONE_API_TOKEN: API_TOKEN,
    DONEDONE_ALLOW_VOLATILE_REDIS: '1',
    PORT: '0',
    LOG_LEVEL: 'info',
  };
}

it('a check due while the bot is killed -9 runs once when it starts again', async () => {
  const first = startMain(env());
  children.push(first.child);
  const port = await first.port;
  const slack = new FakeSlack({ botUrl: `http://127.0.0.1:${port}`, responseBase: slackApi.url });
  await slack.command('propose Bulk export expect bulk_export_total >= 200 per week within 30 days');
  await slackApi.waitFor(() => slackApi.responses[0]);
  await proposedDaysAgo('F-1', 8);
  // Launched a week ago, less 3 seconds: the first weekly check is due in 3 s.
  const at = DateTime.utc().minus({ days: 7 }).plus({ seconds: 3 }).toISO();
  const launch = await fetch(`http://127.0.0.1:${port}/api/features/F-1/launch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ at }),
  });
  expect(launch.status).toBe(200);
  const note = await slackApi.waitFor(() =>
    slackApi.callsTo('chat.postMessage').find((c) => String(c.body.text).includes('launched')),
  );
  const cardTs = note.body.thread_ts;
  expect(cardTs).toBeTruthy();
  first.child.kill('SIGKILL');
  expect(await exitOf(first.child)).toBeNull();
  await new Promise((r) => setTimeout(r, 4000));
  const checkPosts = () =>
    slackApi
      .callsTo('chat.postMessage')
      .filter(
        (c) => c.body.thread_ts === cardTs && /^F-1: (no data|on track|at risk)/.test(String(c.body.text)),
      );
  expect(checkPosts()).toHaveLength(0);

  const second = startMain(env());
  children.push(second.child);
  await second.port;
  await slackApi
    .waitFor(() => checkPosts()[0], 20_000)
    .catch((err) => {
      throw new Error(
        `${err.message}\n${second.output()}\n${JSON.stringify(slackApi.calls.map((c) => c.body.text))}`,
      );
    });
  // Another restart must not post it again.
  second.child.kill('SIGTERM');
  expect(await exitOf(second.child)).toBe(0);
  const third = startMain(env());
  children.push(third.child);
  await third.port;
  // A fixed wait, not a drained queue: the process killed -9 left a job 'active' under its lock,
  // which BullMQ's stalled check frees only after 30 s, so the queue cannot be seen idle sooner.
  await new Promise((r) => setTimeout(r, 2000));
  expect(checkPosts()).toHaveLength(1);
});

it('two web and two worker processes on one Redis: every command answered once, counted where it was taken', async () => {
  const webs = [startMain({ ...env(), DONEDONE_ROLE: 'web' }), startMain({ ...env(), DONEDONE_ROLE: 'web' })];
  const workers = [
    startMain({ ...env(), DONEDONE_ROLE: 'worker' }),
    startMain({ ...env(), DONEDONE_ROLE: 'worker' }),
  ];
  children.push(...[...webs, ...workers].map((p) => p.child));
  const ports = await Promise.all(webs.map((w) => w.port));
  const workerPorts = await Promise.all(workers.map((w) => w.port));
  const slacks = ports.map(
    (port) => new FakeSlack({ botUrl: `http://127.0.0.1:${port}`, responseBase: slackApi.url }),
  );
  // Twenty proposals, alternating between the two web processes.
  for (let i = 0; i < 20; i++) {
    const r = await slacks[i % 2]!.command(`propose Feature ${i} expect bulk_export_total >= 200 per week`);
    expect(r.res.status).toBe(200);
    expect(r.body).toBe('');
  }
  await slackApi.waitFor(() => slackApi.responses.length >= 20, 30_000);
  await drainedOf(prefix);
  // Each answered once, each card posted once, F-1 … F-20 each once.
  expect(slackApi.responses).toHaveLength(20);
  const titles = slackApi.responses.map((r) => /· (Feature \d+)/.exec(String(r.body.text))?.[1]).sort();
  expect(new Set(titles).size).toBe(20);
  const cards = slackApi
    .callsTo('chat.postMessage')
    .filter((c) => c.body.channel === 'C1' && !c.body.thread_ts);
  expect(cards).toHaveLength(20);
  const ids = slackApi.responses.map((r) => /Proposed \*(F-\d+)\*/.exec(String(r.body.text))?.[1]).sort();
  expect(new Set(ids).size).toBe(20);
  // A mistake is answered by the web process in the acknowledgement itself.
  const refused = await slacks[0]!.command('expect F-1 bulk_export_total >= lots');
  expect(refused.body).toContain('lots');
  // Both workers took work; a web process counts what it refused, a worker what it ran.
  const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const ran = await Promise.all(workerPorts.map(metricsOf));
  const count = (text: string) =>
    Number(/donedone_commands_total\{command="propose",outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
  expect(count(ran[0]!) + count(ran[1]!)).toBe(20);
  expect(ran.every((text) => count(text) > 0)).toBe(true);
  expect(await metricsOf(ports[0]!)).toContain(
    'donedone_commands_total{command="expect",outcome="refused"} 1',
  );
  // A worker answers its probes but takes no Slack requests.
  expect((await fetch(`http://127.0.0.1:${workerPorts[0]}/livez`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${workerPorts[0]}/slack/events`, { method: 'POST' })).status).toBe(
    404,
  );
  // Four processes compile the sources as they start (ts-node): on a busy 2-core machine that alone can take a minute.
}, 150_000);

it('commands acknowledged while no worker runs, and one killed -9, are all answered once by the next', async () => {
  const web = startMain({ ...env(), DONEDONE_ROLE: 'web' });
  const doomed = startMain({ ...env(), DONEDONE_ROLE: 'worker' });
  children.push(web.child, doomed.child);
  const slack = new FakeSlack({ botUrl: `http://127.0.0.1:${await web.port}`, responseBase: slackApi.url });
  await doomed.port;
  doomed.child.kill('SIGKILL');
  expect(await exitOf(doomed.child)).toBeNull();
  const sent: string[] = [];
  for (let i = 0; i < 10; i++) sent.push((await slack.command(`propose Queued ${i}`)).responseId);
  // Acknowledged, nothing answered yet: the ten requests wait in Redis for a worker.
  const redis = new Redis(REDIS_URL);
  const queue = new Queue(REQUESTS_QUEUE, { connection: redis, prefix: bullPrefix(prefix) });
  expect(await queue.getWaitingCount()).toBe(10);
  await queue.close();
  redis.disconnect();
  expect(slackApi.responses).toHaveLength(0);
  const next = startMain({ ...env(), DONEDONE_ROLE: 'worker' });
  children.push(next.child);
  await slackApi.waitFor(() => sent.every((id) => slackApi.responses.some((r) => r.id === id)), 30_000);
  for (const id of sent) expect(slackApi.responses.filter((r) => r.id === id)).toHaveLength(1);
  // SIGTERM: the worker finishes what it runs and exits 0.
  next.child.kill('SIGTERM');
  expect(await exitOf(next.child)).toBe(0);
});

it('a web process killed -9 in the middle of a burst: every command it acknowledged is answered once', async () => {
  const doomed = startMain({ ...env(), DONEDONE_ROLE: 'web' });
  const worker = startMain({ ...env(), DONEDONE_ROLE: 'worker' });
  children.push(doomed.child, worker.child);
  const slack = new FakeSlack({
    botUrl: `http://127.0.0.1:${await doomed.port}`,
    responseBase: slackApi.url,
  });
  await worker.port;
  // Commands ten at a time; the web process dies once thirty are acknowledged, with others in flight.
  const outcomes: { id: string; acked: boolean }[] = [];
  let killed = false;
  const sender = async (lane: number) => {
    for (let i = lane; i < 400; i += 10) {
      const outcome = await slack.command(`propose Burst ${i}`).then(
        (r) => ({ id: r.responseId, acked: r.res.status === 200 }),
        () => ({ id: '', acked: false }),
      );
      outcomes.push(outcome);
      if (!killed && outcomes.filter((o) => o.acked).length >= 30) {
        killed = true;
        doomed.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 10 }, (_, lane) => sender(lane)));
  const acked = outcomes.filter((o) => o.acked).map((o) => o.id);
  expect(acked.length).toBeGreaterThanOrEqual(30);
  // The kill landed in the middle: later commands found nobody to take them.
  expect(outcomes.some((o) => !o.acked)).toBe(true);
  // Whatever Slack was told was taken is answered (Slack itself tells the others that the app did not answer).
  await slackApi.waitFor(() => acked.every((id) => slackApi.responses.some((r) => r.id === id)), 60_000);
  for (const id of acked) expect(slackApi.responses.filter((r) => r.id === id)).toHaveLength(1);
}, 150_000);

it('SIGTERM stops taking work, closes connections and exits 0', async () => {
  const bot = startMain(env());
  children.push(bot.child);
  await bot.port;
  bot.child.kill('SIGTERM');
  expect(await exitOf(bot.child)).toBe(0);
  expect(bot.output()).toContain('"msg":"stopped"');
});

it('missing and malformed settings stop the bot with one message listing every problem', async () => {
  const bot = startMain({ SLACK_BOT_TOKEN: 'nope', PORT: 'x', DONEDONE_TIMEZONE: 'Nowhere/Land' });
  children.push(bot.child);
  const code = await exitOf(bot.child);
  expect(code).toBe(1);
  expect(bot.output()).toContain('donedone cannot start: 4 settings to fix');
  expect(bot.output()).toContain('SLACK_SIGNING_SECRET is required');
  expect(bot.output()).toContain('DONEDONE_TIMEZONE must be an IANA time zone');
});
