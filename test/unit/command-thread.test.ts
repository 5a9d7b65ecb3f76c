import { join } from 'node:path';
import pino from 'pino';
import { CommandThread, INTERRUPTED_TEXT } from '../../src/command-thread';
import type { Config } from '../../src/config';
import type { CommandJob, CommandOutcome } from '../../src/slack/listeners/commands/donedone-command';

const job = (text: string): CommandJob => ({
  team: 'T1',
  channel: 'C1',
  userId: 'U1',
  triggerId: `trigger-${text}`,
  text,
  responseUrl: `https://hooks.slack.test/response/${text}`,
  receivedAt: Date.now(),
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('a thread that dies is restarted: unstarted commands go to the new one, the interrupted one is told', async () => {
  const counted: CommandOutcome[] = [];
  const told: { url: string; text: unknown }[] = [];
  const thread = new CommandThread({
    data: { config: {} as Config, catalog: [] },
    log: pino({ level: 'silent' }),
    counted: (o) => counted.push(o),
    answer: async (url, message) => {
      told.push({ url, text: message.text });
    },
    entry: join(__dirname, '../support/fake-command-thread.js'),
  });
  await thread.start();
  thread.run(job('first'));
  await until(() => counted.length === 1);
  // "crash" kills the thread with "after" still queued behind it.
  thread.run(job('crash'));
  thread.run(job('after'));
  await until(() => counted.length === 2, 10_000);
  expect(counted.map((c) => c.command)).toEqual(['first', 'after']);
  expect(told).toEqual([{ url: 'https://hooks.slack.test/response/crash', text: INTERRUPTED_TEXT }]);
  // Sent while it restarts or after: still run once each.
  thread.run(job('later'));
  await until(() => counted.length === 3);
  expect(counted.map((c) => c.command)).toEqual(['first', 'after', 'later']);
  await thread.stop();
});

it('a thread that cannot start makes start() fail', async () => {
  const thread = new CommandThread({
    data: { config: {} as Config, catalog: [] },
    log: pino({ level: 'silent' }),
    counted: () => undefined,
    answer: async () => undefined,
    entry: join(__dirname, '../support/no-such-thread.js'),
  });
  await expect(thread.start()).rejects.toThrow();
});
