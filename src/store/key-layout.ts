import type { Logger } from 'pino';
import { bullPrefix, installKey } from './keys';
import { isCluster, type RedisClient, scanKeys } from './redis-connection';

/** The layout a store is in, kept at `<prefix>layout` once it has been checked (and moved if need be). */
export const KEY_LAYOUT = 'hash-tagged-1';

/** Queues of the earlier layout, `<prefix>bull:<name>:…`; their `meta` says one was ever made there. */
const QUEUE_NAMES = ['donedone', 'donedone-requests'];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A one-off move of a store written before keys carried hash tags (see `keys.ts`) to the tagged
 * layout, run at start before any worker takes a job:
 * `<prefix>team:T:…` → `<prefix>team:{T}:…`, BullMQ's `<prefix>bull:…` → `<prefix>{bull}:…`, and the Slack
 * installations `<prefix>install:…`, `installs`, `uninstalled`, `install-teams:…` → `<prefix>{installs}:…`.
 * Other keys kept their names. Pacing keys (`slot:…`, an hour's life) are left to expire.
 *
 * Cheap when there is nothing to move: a store that has `<prefix>layout` or has neither `<prefix>teams` nor an
 * old queue is marked and left (three EXISTS). Safe with several processes starting at once: a key is
 * moved only when its new name is free (RENAMENX; DUMP/RESTORE on a cluster, where the two names may lie on
 * different nodes), and a key another process moved first is simply gone. A key whose new name is taken
 * is kept and named in a warning, never overwritten; BullMQ's `meta` (written again by every queue at
 * start) is the exception and is dropped. Run old and new versions side by side and the old one's later
 * writes stay in the old layout: stop the old version first.
 */
export async function migrateKeyLayout(
  redis: RedisClient,
  prefix: string,
  log?: Pick<Logger, 'info' | 'warn'>,
): Promise<{ moved: number; kept: string[] }> {
  const marker = `${prefix}layout`;
  if ((await redis.get(marker)) === KEY_LAYOUT) return { moved: 0, kept: [] };
  const witnesses = [
    `${prefix}teams`,
    `${prefix}installs`,
    `${prefix}uninstalled`,
    ...QUEUE_NAMES.map((q) => `${prefix}bull:${q}:meta`),
  ];
  const found = await Promise.all(witnesses.map((k) => redis.exists(k)));
  let moved = 0;
  const kept: string[] = [];
  if (found.some((n) => n > 0)) {
    const team = new RegExp(`^${escapeRegExp(prefix)}team:([^{}:]+):(.*)$`, 's');
    const moves: [string, string][] = [];
    for (const key of await scanKeys(redis, `${prefix}team:*`)) {
      const m = team.exec(key);
      if (m) moves.push([key, `${prefix}team:{${m[1]}}:${m[2]}`]);
    }
    const oldBull = `${prefix}bull:`;
    for (const key of await scanKeys(redis, `${oldBull}*`)) {
      moves.push([key, `${bullPrefix(prefix)}:${key.slice(oldBull.length)}`]);
    }
    const installs = new RegExp(`^${escapeRegExp(prefix)}(install[-:s].*|uninstalled)$`, 's');
    for (const pattern of [`${prefix}install*`, `${prefix}uninstalled`]) {
      for (const key of await scanKeys(redis, pattern)) {
        const m = installs.exec(key);
        if (m) moves.push([key, installKey(prefix, m[1]!)]);
      }
    }
    for (const [from, to] of moves) {
      const result = await moveKey(redis, from, to);
      if (result === 'moved') moved++;
      else if (result === 'taken') {
        if (/:meta$/.test(from) && from.startsWith(oldBull)) await redis.del(from);
        else kept.push(from);
      }
    }
    log?.info(
      { moved, kept: kept.length },
      'moved Redis keys to the hash-tagged layout (Redis Cluster ready)',
    );
    if (kept.length > 0) {
      log?.warn(
        { keys: kept.slice(0, 20) },
        'some keys of the earlier layout were kept: their new names were taken (was an older donedone still running?)',
      );
    }
  }
  await redis.set(marker, KEY_LAYOUT);
  return { moved, kept };
}

/** Moves one key if its new name is free: `moved`, `taken` (kept as it is), or `gone` (moved by someone else). */
async function moveKey(redis: RedisClient, from: string, to: string): Promise<'moved' | 'taken' | 'gone'> {
  if (!isCluster(redis)) {
    try {
      return (await redis.renamenx(from, to)) === 1 ? 'moved' : 'taken';
    } catch (err) {
      if (/no such key/i.test((err as Error).message)) return 'gone';
      throw err;
    }
  }
  // On a cluster the two names usually hash to different slots: copy with its expiry, then delete.
  const dump = await redis.dumpBuffer(from);
  if (dump === null) return 'gone';
  const ttl = await redis.pttl(from);
  try {
    await redis.restore(to, Math.max(ttl, 0), dump);
  } catch (err) {
    if (/BUSYKEY/.test((err as Error).message)) return 'taken';
    throw err;
  }
  await redis.del(from);
  return 'moved';
}
