import { bullPrefix } from '../../src/store/keys';
import { type RedisClient, scanKeys } from '../../src/store/redis-connection';
import { type RunningBot, startBot } from '../support/bot';
import { deleteKeysUnder } from '../support/redis-cluster';
import { targetRedis } from '../support/target-redis';
import { drainedBot, waitFor } from '../support/wait';

/**
 * A store written before keys carried hash tags (`team:T1:…`, BullMQ under `<prefix>bull`) is moved at
 * start, once, and nothing in it is lost: features, their numbering and history, the planned checks.
 */
let bot: RunningBot | undefined;
let redis: RedisClient;
let prefix: string | undefined;

beforeEach(() => {
  redis = targetRedis();
});

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  if (prefix) await deleteKeysUnder(redis, prefix);
  redis.disconnect();
});

/** Copies a key to a new name with its expiry and deletes the old one (works across slots). */
async function move(from: string, to: string): Promise<void> {
  const dump = await redis.dumpBuffer(from);
  if (dump === null) return;
  const ttl = await redis.pttl(from);
  await redis.restore(to, Math.max(ttl, 0), dump);
  await redis.del(from);
}

/** Turns a stopped bot's keys back into the layout before hash tags, as an older donedone left them. */
async function toLayoutBeforeTags(keyPrefix: string): Promise<number> {
  let moved = 0;
  const tagged = new RegExp(
    `^${keyPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}team:\\{([^}]+)\\}:(.*)$`,
    's',
  );
  const queues = `${bullPrefix(keyPrefix)}:`;
  for (const key of await scanKeys(redis, `${keyPrefix}*`)) {
    const m = tagged.exec(key);
    if (m) await move(key, `${keyPrefix}team:${m[1]}:${m[2]}`);
    else if (key.startsWith(queues)) await move(key, `${keyPrefix}bull:${key.slice(queues.length)}`);
    else continue;
    moved++;
  }
  await redis.del(`${keyPrefix}layout`);
  return moved;
}

async function answerTo(b: RunningBot, text: string): Promise<string> {
  const before = b.slackApi.responses.length;
  const { responseId } = await b.slack.command(text);
  const answer = await b.slackApi.waitFor(() =>
    b.slackApi.responses.slice(before).find((r) => r.id === responseId),
  );
  return JSON.stringify(answer.body);
}

it('moves features, numbering, history and planned checks of the earlier layout, once', async () => {
  bot = await startBot();
  prefix = bot.prefix;
  await answerTo(bot, 'propose Bulk export expect bulk_export_total >= 200 per week within 30 days');
  await bot.donedone.store.update('T1', 'F-1', (f) => ({ ...f, createdAt: '2026-09-01T00:00:00.000Z' }));
  await bot.slack.command('launch F-1 2026-10-20');
  await waitFor(async () => (await bot!.donedone.queue.getDelayedCount()) > 0);
  await drainedBot(bot.donedone);
  const planned = (await bot.donedone.queue.getDelayed()).map((j) => j.id).sort();
  const before = (await bot.donedone.store.get('T1', 'F-1'))!;
  await bot.stop({ keepData: true });

  const moved = await toLayoutBeforeTags(prefix);
  expect(moved).toBeGreaterThan(5);
  expect(await scanKeys(redis, `${prefix}team:{*`)).toEqual([]);
  expect(await scanKeys(redis, `${bullPrefix(prefix)}*`)).toEqual([]);

  bot = await startBot({ prefix });
  // Nothing of the earlier layout is left, and everything reads as before.
  expect(await scanKeys(redis, `${prefix}team:T1:*`)).toEqual([]);
  expect(await scanKeys(redis, `${prefix}bull:*`)).toEqual([]);
  expect(await bot.donedone.store.get('T1', 'F-1')).toEqual(before);
  expect((await bot.donedone.queue.getDelayed()).map((j) => j.id).sort()).toEqual(planned);
  const shown = await answerTo(bot, 'show F-1');
  expect(shown).toContain('Bulk export');
  expect(shown).toContain('History');
  // The numbering goes on: the next proposal is F-2, not a second F-1.
  await answerTo(bot, 'propose Dark mode');
  expect((await bot.donedone.store.list('T1')).map((f) => f.id)).toEqual(['F-1', 'F-2']);
  expect(await redis.get(`${prefix}layout`)).toBe('hash-tagged-1');
});

it('a new store is only marked: nothing to move', async () => {
  bot = await startBot();
  prefix = bot.prefix;
  expect(await redis.get(`${prefix}layout`)).toBe('hash-tagged-1');
  await answerTo(bot, 'propose Bulk export');
  const keys = await scanKeys(redis, `${prefix}team:*`);
  expect(keys.length).toBeGreaterThan(0);
  expect(keys.every((k) => k.startsWith(`${prefix}team:{T1}:`))).toBe(true);
});
