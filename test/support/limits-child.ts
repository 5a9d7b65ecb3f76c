/**
 * A second donedone process for the shared-limits test: a PostHog client on its own Redis
 * connection with the prefix it is given, making CALLS queries and printing each outcome.
 */
import Redis from 'ioredis';
import { DateTime, Duration } from 'luxon';
import { PostHogClient } from '../../src/telemetry/posthog-client';

async function main(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  const client = new PostHogClient({
    baseUrl: process.env.POSTHOG_URL ?? '',
    apiKey: 'phx_SECRETsharedKEY',
    projectId: '7',
    shared: { redis, prefix: process.env.LIMITS_PREFIX ?? '' },
    limits: { queriesPerMinute: 3 },
    resilience: { retries: 0 },
  });
  const at = DateTime.fromISO('2026-01-15T12:00:00Z', { zone: 'utc' });
  for (let i = 0; i < Number(process.env.CALLS ?? 1); i++) {
    try {
      const m = await client.valueOver(
        { source: 'posthog', event: 'export.done' },
        Duration.fromObject({ weeks: 1 }),
        at,
      );
      process.stdout.write(`ok ${m.value}\n`);
    } catch (err) {
      process.stdout.write(`refused ${(err as Error).message}\n`);
    }
  }
  await redis.quit();
}

void main();
