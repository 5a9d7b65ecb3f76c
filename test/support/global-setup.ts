import Redis from 'ioredis';
import { startPrometheus } from './prometheus';

/** Starts one Prometheus for the integration suite and checks Redis answers. */
export default async function globalSetup(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Integration tests need Redis at ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}: ${(err as Error).message}`,
    );
  } finally {
    redis.disconnect();
  }
  const prometheus = await startPrometheus();
  process.env.TEST_PROMETHEUS_URL = prometheus.url;
  (globalThis as { __prometheus?: unknown }).__prometheus = prometheus;
}
