import { randomUUID } from 'node:crypto';
import { DateTime, Duration } from 'luxon';
import type { MetricRef } from '../../src/domain/model';
import { MeasurementBatches } from '../../src/telemetry/measurement-batches';
import { MeasurementCache, measurementKey } from '../../src/telemetry/measurement-cache';
import type { Measurement, TelemetrySource } from '../../src/telemetry/types';
import { deleteKeysUnder } from '../support/redis-cluster';
import { targetRedis } from '../support/target-redis';

const redis = targetRedis();
const prefix = `test:batches:${randomUUID()}:`;
afterAll(async () => {
  await deleteKeysUnder(redis, prefix);
  redis.disconnect();
});

it('answers a caller whose metric a batch measured after it missed the cache, without asking again', async () => {
  const calls: string[][] = [];
  const source = {
    name: 'posthog' as const,
    batchSize: 100,
    valueOver: async (m: MetricRef): Promise<Measurement> => {
      calls.push([(m as { event: string }).event]);
      return { value: 1, query: 'single' };
    },
    valuesOver: async (ms: MetricRef[]): Promise<Measurement[]> => {
      calls.push(ms.map((m) => (m as { event: string }).event).sort());
      return ms.map((m) => ({ value: (m as { event: string }).event === 'a' ? 10 : 11, query: 'batched' }));
    },
  } as unknown as TelemetrySource & Required<Pick<TelemetrySource, 'valuesOver'>>;
  const cache = new MeasurementCache(redis, prefix);
  const batches = new MeasurementBatches(redis, prefix, cache);
  const window = Duration.fromObject({ days: 7 });
  const at = DateTime.fromISO('2026-11-01T00:00:03Z', { zone: 'utc' });
  const a: MetricRef = { source: 'posthog', event: 'a' };
  const b: MetricRef = { source: 'posthog', event: 'b' };
  await batches.due('posthog', a, window, at);
  await batches.due('posthog', b, window, at);

  // The caller for `a` runs the batch: one query for both.
  expect(await batches.measure(source, a, window, at)).toEqual({ value: 10, query: 'batched' });
  expect(calls).toEqual([['a', 'b']]);
  // The caller for `b` missed the cache just before the batch stored it, and now finds the lock free.
  expect(await cache.peek(measurementKey('posthog', b, window, at))).toEqual({ value: 11, query: 'batched' });
  expect(await batches.measure(source, b, window, at)).toEqual({ value: 11, query: 'batched' });
  expect(calls).toEqual([['a', 'b']]);
});
