import { randomUUID } from 'node:crypto';
import type { DateTime } from 'luxon';
import pino from 'pino';
import { createDonedone, type Donedone } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { CatalogEntry } from '../../src/domain/catalog';
import type { QueueSettings } from '../../src/jobs/queue';
import { createRedis } from '../../src/store/redis-connection';
import type { TelemetrySource } from '../../src/telemetry/types';
import { NOW } from '../fixtures/history';
import { deleteKeysUnder } from './redis-cluster';
import { FakeSlack, SIGNING_SECRET } from './slack-requests';
import { SlackStandIn } from './slack-stand-in';
import { targetRedisEnv } from './target-redis';

export interface RunningBot {
  donedone: Donedone;
  slackApi: SlackStandIn;
  slack: FakeSlack;
  url: string;
  prefix: string;
  clock: { now: DateTime };
  /** Stops the bot; `keepData` leaves its Redis keys for a restarted bot (`startBot({ prefix })`). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts the whole bot over HTTP on a free port: real Redis (own key prefix), the test
 * Prometheus, and the Web API pointed at a local stand-in.
 */
export async function startBot(
  opts: {
    env?: Record<string, string>;
    catalog?: CatalogEntry[];
    telemetrySources?: TelemetrySource[];
    now?: DateTime;
    queue?: Partial<QueueSettings>;
    /** Reuse a stopped bot's Redis prefix: a restart of the same install (or a second process of it). */
    prefix?: string;
    /** Socket Mode: the WebSocket URL the stand-in's apps.connections.open hands out. */
    socketUrl?: string;
    /** A logger to read the bot's log lines (default: silent). */
    logger?: pino.Logger;
    /** A Slack stand-in shared with another bot process (its owner starts and stops it). */
    slackApi?: SlackStandIn;
  } = {},
): Promise<RunningBot> {
  const ownStandIn = !opts.slackApi;
  const slackApi = opts.slackApi ?? new SlackStandIn();
  if (ownStandIn) await slackApi.start();
  if (opts.socketUrl) slackApi.socketUrl = opts.socketUrl;
  const prefix = opts.prefix ?? `test:${randomUUID()}:`;
  const clock = { now: opts.now ?? NOW };
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slackApi.url}/api/`,
    PROMETHEUS_URL: process.env.TEST_PROMETHEUS_URL ?? 'http://127.0.0.1:9',
    // REDIS_URL, or the cluster's nodes in the cluster project (the two are exclusive).
    ...(opts.env?.REDIS_CLUSTER_NODES || opts.env?.REDIS_URL ? {} : targetRedisEnv()),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The test Redis is shared and throwaway: no persistence needed.
    DONEDONE_ALLOW_VOLATILE_REDIS: '1',
    ...opts.env,
  });
  const donedone = createDonedone({
    config,
    now: () => clock.now,
    keyPrefix: prefix,
    // Short back-off so retries happen within a test.
    queue: { attempts: 3, backoffMs: 100, ...opts.queue },
    logger: opts.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(opts.catalog ? { catalog: opts.catalog } : {}),
    ...(opts.telemetrySources ? { telemetrySources: opts.telemetrySources } : {}),
  });
  let port: number;
  try {
    ({ port } = await donedone.start(0));
  } catch (err) {
    // A bot that refuses to start (a setting, a volatile Redis) leaves no connection open behind it.
    await donedone.stop();
    if (ownStandIn) await slackApi.stop();
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const slack = new FakeSlack({ botUrl: url, responseBase: slackApi.url });
  return {
    donedone,
    slackApi,
    slack,
    url,
    prefix,
    clock,
    async stop(stopOpts: { keepData?: boolean } = {}) {
      await donedone.stop();
      if (ownStandIn) await slackApi.stop();
      if (stopOpts.keepData) return;
      const redis = createRedis(config);
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    },
  };
}
