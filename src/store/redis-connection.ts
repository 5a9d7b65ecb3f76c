import { randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';

/**
 * How the store's and the producers' Redis connections behave when Redis is down or frozen: a
 * command waits at most 5 s (`commandTimeout`), a connection attempt at most 5 s, and a command is
 * retried over one reconnection at most. Nobody waits for ever; the asker is told nothing was saved.
 * (BullMQ's workers keep their own connection, which must retry for ever: `maxRetriesPerRequest: null`.)
 */
export const STORE_REDIS_OPTIONS: RedisOptions = {
  commandTimeout: 5_000,
  connectTimeout: 5_000,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
};

/** True when `err` is the store failing (down, frozen, refusing), not a bug or Slack. */
export function isStoreError(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  if (!e?.message) return false;
  if (['MaxRetriesPerRequestError', 'ReplyError', 'QueueTimeoutError'].includes(e.name ?? '')) return true;
  return /Command timed out|Connection is closed|ECONNREFUSED|ETIMEDOUT|ECONNRESET|Stream isn't writeable|connect ETIMEDOUT|max retries per request|LOADING|READONLY|MISCONF/i.test(
    e.message,
  );
}

/**
 * Refuses a Redis that would lose the board on restart (no AOF, no RDB snapshots), unless the operator
 * said it is fine (`DONEDONE_ALLOW_VOLATILE_REDIS=1`, for tests). A Redis whose configuration cannot be
 * read (managed services hide CONFIG) is trusted.
 */
export async function refuseVolatileRedis(redis: Redis, allowVolatile: boolean): Promise<void> {
  if (allowVolatile) return;
  let appendonly: string | undefined;
  let save: string | undefined;
  try {
    [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    [, save] = (await redis.config('GET', 'save')) as string[];
  } catch {
    return;
  }
  if (appendonly !== 'yes' && !save) {
    throw new Error(
      'Redis has no persistence (appendonly no, no RDB snapshots): a restart would lose every feature and reissue F-1. ' +
        'Run it with `appendonly yes` (e.g. `redis-server --appendonly yes`), or set DONEDONE_ALLOW_VOLATILE_REDIS=1 if losing everything is fine (tests).',
    );
  }
}

/**
 * The install's epoch: a random id made the first time a store is used. A store that was reset (a Redis
 * restarted without persistence, a flush) gets a new one at its next use, so buttons of older cards are
 * recognised. Read on every use (one GET), so a running bot notices a reset at once.
 */
export function installEpoch(redis: Redis, prefix: string): () => Promise<string> {
  const key = `${prefix}epoch`;
  return async () => {
    const current = await redis.get(key);
    if (current) return current;
    await redis.set(key, randomBytes(4).toString('hex'), 'NX');
    return (await redis.get(key)) ?? '';
  };
}
