import { createHash } from 'node:crypto';
import type { RedisClient } from '../store/redis-connection';
import type { Measurement } from './types';

/**
 * One telemetry call per distinct (metric, window, time): concurrent callers in a process
 * share the call in flight, and other processes find the answer in Redis for `ttlSeconds`.
 * Failures are never cached.
 */
export class MeasurementCache {
  private readonly inFlight = new Map<string, Promise<Measurement>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds = 600,
  ) {}

  async get(keyParts: unknown, compute: () => Promise<Measurement>): Promise<Measurement> {
    const key = `${this.prefix}measure:${createHash('sha1').update(JSON.stringify(keyParts)).digest('hex')}`;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const promise = (async () => {
      const cached = await this.redis.get(key);
      if (cached) return JSON.parse(cached) as Measurement;
      const value = await compute();
      await this.redis.set(key, JSON.stringify(value), 'EX', this.ttlSeconds);
      return value;
    })();
    this.inFlight.set(key, promise);
    try {
      return await promise;
    } finally {
      this.inFlight.delete(key);
    }
  }
}
