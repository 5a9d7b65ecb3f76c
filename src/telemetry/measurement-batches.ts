import { randomUUID } from 'node:crypto';
import type { DateTime, Duration } from 'luxon';
import type { MetricRef } from '../domain/model';
import type { RedisClient } from '../store/redis-connection';
import { type MeasurementCache, measurementKey } from './measurement-cache';
import type { Measurement, TelemetrySource } from './types';

/** Frees the batch's lock only for its holder. KEYS: the lock. ARGV: the holder's token. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const DAY_MS = 86_400_000;
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface BatchSettings {
  /** How long a batch's lock is held at most (its queries' time-outs and retries, with a margin). Default 60 s. */
  lockMs: number;
  /** How often a caller waiting for another's batch looks for its answer. Default 50 ms. */
  pollMs: number;
  /** How long a caller waits for another's batch before measuring alone. Default 60 s. */
  waitMs: number;
}

const DEFAULTS: BatchSettings = { lockMs: 60_000, pollMs: 50, waitMs: 60_000 };

/**
 * Measurements that are due together, made together: for a source that can measure many
 * metrics in one query (PostHog's HogQL, grouped by event), every metric due over the same
 * window at the same time is listed in Redis (`due`, when its check is scheduled, and again when
 * it is asked for). The first caller for a (window, time) takes the batch's lock and measures
 * every metric listed in as few queries as the source allows, putting each answer in the
 * measurement cache; the others, in any process, find theirs there. So a sweep of 1,000 PostHog
 * checks due at one time costs 4 queries, not 1,000, inside PostHog's 240 a minute and 2,400 an hour.
 */
export class MeasurementBatches {
  private readonly settings: BatchSettings;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly cache: MeasurementCache,
    settings: Partial<BatchSettings> = {},
    sleep?: (ms: number) => Promise<void>,
  ) {
    this.settings = { ...DEFAULTS, ...settings };
    this.sleep = sleep ?? realSleep;
  }

  /** The metrics due from one source over `window` at `at`: `{prefix}batch:{posthog}:<window s>:<at ms>`. */
  private key(source: string, window: Duration, at: DateTime): string {
    return `${this.prefix}batch:{${source}}:${window.as('seconds')}:${at.toMillis()}`;
  }

  /** Lists `metric` as due over `window` at `at`; the list is kept until a day after `at`. */
  async due(source: string, metric: MetricRef, window: Duration, at: DateTime): Promise<void> {
    const key = this.key(source, window, at);
    await this.redis
      .multi()
      .sadd(key, JSON.stringify(metric))
      .pexpireat(key, Math.max(at.toMillis(), Date.now()) + DAY_MS)
      .exec();
  }

  /** `metric` over `window` at `at`, measured with everything due with it (or found measured by another). */
  async measure(
    source: TelemetrySource & Required<Pick<TelemetrySource, 'valuesOver'>>,
    metric: MetricRef,
    window: Duration,
    at: DateTime,
  ): Promise<Measurement> {
    await this.due(source.name, metric, window, at);
    const key = this.key(source.name, window, at);
    const lock = `${key}:lock`;
    const parts = measurementKey(source.name, metric, window, at);
    const giveUpAt = Date.now() + this.settings.waitMs;
    for (;;) {
      const token = randomUUID();
      if ((await this.redis.set(lock, token, 'PX', this.settings.lockMs, 'NX')) === 'OK') {
        try {
          return await this.measureAll(source, key, metric, window, at);
        } finally {
          await this.redis.eval(RELEASE_SCRIPT, 1, lock, token).catch(() => undefined);
        }
      }
      // Another caller is measuring this batch: its answers land in the cache.
      await this.sleep(this.settings.pollMs);
      const found = await this.cache.peek(parts);
      if (found) return found;
      if (Date.now() > giveUpAt) return source.valueOver(metric, window, at);
    }
  }

  /** Everything listed for the batch and not measured yet, in chunks the source takes; returns `mine`. */
  private async measureAll(
    source: TelemetrySource & Required<Pick<TelemetrySource, 'valuesOver'>>,
    key: string,
    mine: MetricRef,
    window: Duration,
    at: DateTime,
  ): Promise<Measurement> {
    const mineJson = JSON.stringify(mine);
    const members = await this.redis.smembers(key);
    if (!members.includes(mineJson)) members.push(mineJson);
    const partsOf = (json: string) => measurementKey(source.name, JSON.parse(json) as MetricRef, window, at);
    // Measured by an earlier batch (a member listed again later, or `mine`, when that batch ended
    // between the caller's cache miss and this lock): not asked twice.
    const cached = await this.cache.has(members.map(partsOf));
    const todo = members.filter((_, i) => !cached[i]);
    const size = Math.max(1, source.batchSize ?? 100);
    let answer: Measurement | undefined;
    for (let i = 0; i < todo.length; i += size) {
      const chunk = todo.slice(i, i + size);
      const metrics = chunk.map((json) => JSON.parse(json) as MetricRef);
      // A batch of one is the plain query.
      const results =
        metrics.length === 1
          ? [await source.valueOver(metrics[0]!, window, at)]
          : await source.valuesOver(metrics, window, at);
      await this.cache.putMany(chunk.map((json, k) => [partsOf(json), results[k]!]));
      await this.redis.srem(key, ...chunk);
      const k = chunk.indexOf(mineJson);
      if (k >= 0) answer = results[k];
    }
    return answer ?? (await this.cache.peek(partsOf(mineJson))) ?? source.valueOver(mine, window, at);
  }
}
