import { loadConfig } from '../../src/config';
import { createRedis, type RedisClient } from '../../src/store/redis-connection';

/**
 * The Redis settings the tests' bots use: the local Redis Cluster in the cluster project
 * (TEST_REDIS_CLUSTER_NODES), else REDIS_URL.
 */
export function targetRedisEnv(): Record<string, string> {
  const nodes = process.env.TEST_REDIS_CLUSTER_NODES;
  return nodes
    ? { REDIS_CLUSTER_NODES: nodes }
    : { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
}

/** A connection to what the tests' bots use (one Redis or the cluster), for a test to look or reset. */
export function targetRedis(): RedisClient {
  return createRedis(
    loadConfig({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test', ...targetRedisEnv() }),
  );
}
