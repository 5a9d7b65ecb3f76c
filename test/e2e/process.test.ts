import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DateTime } from 'luxon';
import { FakeSlack, SIGNING_SECRET } from '../support/slack-requests';
import { SlackStandIn } from '../support/slack-stand-in';

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
  const key = `${prefix}team:T1:f:${id}`;
  const feature = JSON.parse((await redis.hget(key, 'json'))!);
  feature.createdAt = DateTime.utc().minus({ days }).toISO();
  await redis.hset(key, 'json', JSON.stringify(feature));
  redis.disconnect();
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
    PORT: '0',
    LOG_LEVEL: 'info',
    DONEDONE_ALLOW_VOLATILE_REDIS: '1',
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
  await new Promise((r) => setTimeout(r, 2000));
  expect(checkPosts()).toHaveLength(1);
});

it('commands do their work on the command thread: answered, counted in /metrics, finished on SIGTERM', async () => {
  const bot = startMain(env());
  children.push(bot.child);
  const port = await bot.port;
  const slack = new FakeSlack({ botUrl: `http://127.0.0.1:${port}`, responseBase: slackApi.url });
  const proposed = await slack.command('propose Bulk export expect bulk_export_total >= 200 per week');
  expect(proposed.res.status).toBe(200);
  const answer = await slackApi.waitFor(() => slackApi.responses.find((r) => r.id === proposed.responseId));
  expect(String(answer.body.text)).toContain('Proposed *F-1*');
  expect(bot.output()).toMatch(/"thread":"commands".*"msg":"command thread ready"/);
  expect(answer.body.response_type).toBe('ephemeral');
  expect(slackApi.callsTo('chat.postMessage')[0]?.body.channel).toBe('C1');
  // A bad expectation is answered in the ack by the main thread, and counted there.
  const refused = await slack.command('expect F-1 bulk_export_total >= lots');
  expect(refused.body).toContain('lots');

  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toContain('donedone_commands_total{command="propose",outcome="ok"} 1');
  expect(metrics).toContain('donedone_commands_total{command="expect",outcome="refused"} 1');
  expect(metrics).toMatch(/donedone_command_duration_seconds_count\{command="propose"\} 1/);

  // Acknowledged, then the bot is told to stop at once: the work under way still answers.
  const shown = await slack.command('show F-1');
  expect(shown.res.status).toBe(200);
  bot.child.kill('SIGTERM');
  expect(await exitOf(bot.child)).toBe(0);
  const show = slackApi.responses.find((r) => r.id === shown.responseId);
  expect(JSON.stringify(show?.body)).toContain('Bulk export');
});

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
