import type { RedisOptions } from 'ioredis';
import { ConfigError, parseClusterNodes } from '../src/config';
import { createRedis, dataNodes, type RedisClient } from '../src/store/redis-connection';

/**
 * The Redis a benchmark runs on: a Redis Cluster when REDIS_CLUSTER_NODES is set (as the bot reads it),
 * else REDIS_URL (default redis://127.0.0.1:6379).
 */
export function benchRedisEnv(): Record<string, string> {
  const nodes = process.env.REDIS_CLUSTER_NODES;
  return nodes
    ? { REDIS_CLUSTER_NODES: nodes }
    : { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
}

/** A connection to the benchmark's Redis (one Redis or the cluster), made by the bot's own factory. */
export function benchRedis(options: RedisOptions = {}): RedisClient {
  const nodes = process.env.REDIS_CLUSTER_NODES;
  const problems: string[] = [];
  const redisCluster = nodes ? parseClusterNodes(nodes, problems) : undefined;
  if (problems.length > 0) throw new ConfigError(problems);
  return createRedis(
    {
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      ...(redisCluster ? { redisCluster } : {}),
    },
    options,
  );
}

/** Deletes every key under `prefix` on every master (one key a command: a cluster's keys lie in many slots). */
export async function deleteUnder(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of await dataNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
      cursor = next;
      if (keys.length > 0) {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        deleted += ((await pipeline.exec()) ?? []).reduce((n, [, r]) => n + Number(r ?? 0), 0);
      }
    } while (cursor !== '0');
  }
  return deleted;
}

/** Redis' CPU seconds and commands processed so far, summed over every master (run nothing else meanwhile). */
export async function redisUse(redis: RedisClient): Promise<{ cpuS: number; commands: number }> {
  let cpuS = 0;
  let commands = 0;
  for (const node of await dataNodes(redis)) {
    const info = `${await node.info('cpu')}\n${await node.info('stats')}`;
    const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    cpuS += get('used_cpu_user') + get('used_cpu_sys');
    commands += get('total_commands_processed');
  }
  return { cpuS, commands };
}
