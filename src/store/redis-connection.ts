import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config';

/**
 * What the store, the producers and the workers talk to: one Redis, or a Redis Cluster. Both offer the
 * same commands, transactions and scripts (ioredis routes each to the node of its keys' slot), so code
 * takes either; keys are built in `keys.ts` so a multi-key operation stays in one slot.
 */
export type RedisClient = Redis | Cluster;

/**
 * The one factory of Redis connections: `REDIS_URL` gives one Redis, `REDIS_CLUSTER_NODES` a Cluster whose
 * nodes all get `options` (and the cluster's credentials and TLS). BullMQ's workers pass
 * `maxRetriesPerRequest: null`; BullMQ reads it from a cluster's node options.
 */
export function createRedis(
  config: Pick<Config, 'redisUrl' | 'redisCluster'>,
  options: RedisOptions = {},
): RedisClient {
  const cluster = config.redisCluster;
  if (!cluster) return new Redis(config.redisUrl, options);
  const client = new Cluster(cluster.nodes, {
    redisOptions: {
      ...options,
      ...(cluster.username ? { username: cluster.username } : {}),
      ...(cluster.password ? { password: cluster.password } : {}),
      ...(cluster.tls ? { tls: {} } : {}),
    },
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    // A cluster pipelines by its own option: the nodes' one is never read, as the cluster sends
    // each command to its node directly.
    ...(options.enableAutoPipelining ? { enableAutoPipelining: true } : {}),
    // A failover moves slots: ask again where they are rather than fail the command at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 500,
  });
  const ms = options.commandTimeout;
  if (typeof ms === 'number') {
    // A node's connection times out what it sent; a cluster with no reachable node keeps commands in its
    // own offline queue, untimed. The time-out starts when the command is given (Command#setTimeout
    // keeps the first timer), so the asker hears within `ms`, whatever part of the way it is stuck at.
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: Parameters<Cluster['sendCommand']>[0], ...rest: unknown[]) => {
      command.setTimeout(ms);
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as Cluster['sendCommand'];
  }
  return client;
}

/** True when `redis` is a Redis Cluster (not one Redis). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * The servers that hold data: the masters of a cluster (known once it has loaded its slots, hence the
 * PING first), or the one Redis. Server-wide questions (CONFIG GET, SCAN) must be asked of each.
 */
export async function dataNodes(redis: RedisClient): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  await redis.ping();
  return redis.nodes('master');
}

/** `host:port` of a node, to name it in warnings. */
export function nodeName(node: Redis): string {
  return `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
}

/** Every key matching `pattern`, on every data node (SCAN, never KEYS: it does not block the server). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of await dataNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}

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
  enableAutoPipelining: true,
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
export async function refuseVolatileRedis(redis: RedisClient, allowVolatile: boolean): Promise<void> {
  if (allowVolatile) return;
  const volatile: string[] = [];
  let nodes: Redis[];
  try {
    nodes = await dataNodes(redis);
  } catch {
    return;
  }
  // On a cluster each master holds part of the board: every one of them must persist.
  for (const node of nodes) {
    let appendonly: string | undefined;
    let save: string | undefined;
    try {
      [, appendonly] = (await node.config('GET', 'appendonly')) as string[];
      [, save] = (await node.config('GET', 'save')) as string[];
    } catch {
      continue;
    }
    if (appendonly !== 'yes' && !save) volatile.push(nodeName(node));
  }
  if (volatile.length > 0) {
    const where = isCluster(redis) ? `Redis Cluster master ${volatile.join(', ')} has` : 'Redis has';
    throw new Error(
      `${where} no persistence (appendonly no, no RDB snapshots): a restart would lose every feature and reissue F-1. ` +
        'Run it with `appendonly yes` (e.g. `redis-server --appendonly yes`), or set DONEDONE_ALLOW_VOLATILE_REDIS=1 if losing everything is fine (tests).',
    );
  }
}

/**
 * The install's epoch: a random id made the first time a store is used. A store that was reset (a Redis
 * restarted without persistence, a flush) gets a new one at its next use, so buttons of older cards are
 * recognised. Read on every use (one GET), so a running bot notices a reset at once.
 */
export function installEpoch(redis: RedisClient, prefix: string): () => Promise<string> {
  const key = `${prefix}epoch`;
  return async () => {
    const current = await redis.get(key);
    if (current) return current;
    await redis.set(key, randomBytes(4).toString('hex'), 'NX');
    return (await redis.get(key)) ?? '';
  };
}
