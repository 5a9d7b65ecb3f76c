import { createHash } from 'node:crypto';
import type { DateTime, Duration } from 'luxon';
import type { MetricRef } from '../domain/model';
import type { RedisClient } from '../store/redis-connection';
import type { Measurement } from './types';

/** The cache key of a metric's value over a window at a time, from one source (a resolved metric). */
export function measurementKey(source: string, metric: MetricRef, window: Duration, at: DateTime): unknown[] {
  return [source, metric, window.as('seconds'), at.toMillis()];
}

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

  private keyOf(keyParts: unknown): string {
    return `${this.prefix}measure:${createHash('sha1').update(JSON.stringify(keyParts)).digest('hex')}`;
  }

  /** What is cached under `keyParts`, without computing it. */
  async peek(keyParts: unknown): Promise<Measurement | null> {
    const cached = await this.redis.get(this.keyOf(keyParts));
    return cached ? (JSON.parse(cached) as Measurement) : null;
  }

  /** Which of `keyParts` are cached. */
  async has(keyParts: unknown[]): Promise<boolean[]> {
    if (keyParts.length === 0) return [];
    // One EXISTS a key, not one MGET: on a Redis Cluster the keys lie in many slots.
    const found = await Promise.all(keyParts.map((p) => this.redis.exists(this.keyOf(p))));
    return found.map((n) => n > 0);
  }

  /** Stores measurements made together (a batched query), for every caller that asks for one of them. */
  async putMany(entries: [keyParts: unknown, value: Measurement][]): Promise<void> {
    if (entries.length === 0) return;
    // Each answer stands alone (no transaction): on a Redis Cluster the keys lie in many slots.
    await Promise.all(
      entries.map(([parts, value]) =>
        this.redis.set(this.keyOf(parts), JSON.stringify(value), 'EX', this.ttlSeconds),
      ),
    );
  }

  async get(keyParts: unknown, compute: () => Promise<Measurement>): Promise<Measurement> {
    const key = this.keyOf(keyParts);
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
