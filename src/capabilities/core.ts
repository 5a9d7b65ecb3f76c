import type { Queue } from 'bullmq';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { auditEntries } from '../domain/audit';
import type { CatalogEntry } from '../domain/catalog';
import type { Check, Feature } from '../domain/model';
import { BotMetrics } from '../http/metrics';
import { nodeFetch } from '../http/node-fetch';
import { boundedQueue } from '../jobs/bounded-queue';
import { Effects } from '../jobs/effects';
import { ChannelPacing, createPacingQueue, type PaceJob, type PacingSettings } from '../jobs/pacing';
import { createQueue, DEFAULT_QUEUE_SETTINGS, type JobData, type QueueSettings } from '../jobs/queue';
import { createLogger } from '../log';
import { guardedFetch } from '../slack/outgoing';
import { WebApiPort } from '../slack/port';
import { AuditStore } from '../store/audit-store';
import { CheckStore } from '../store/check-store';
import { DigestSchedules } from '../store/digest-schedules';
import { FeatureStore } from '../store/feature-store';
import { bullPrefix } from '../store/keys';
import { Marks } from '../store/marks';
import { createRedis, installEpoch, type RedisClient, STORE_REDIS_OPTIONS } from '../store/redis-connection';
import { RetroIndex } from '../store/retro-index';
import { HoneycombClient } from '../telemetry/honeycomb-client';
import { MeasurementBatches } from '../telemetry/measurement-batches';
import { MeasurementCache } from '../telemetry/measurement-cache';
import { PostHogClient } from '../telemetry/posthog-client';
import { PrometheusClient } from '../telemetry/prometheus-client';
import { createResilientFetch } from '../telemetry/resilient-fetch';
import type { SharedLimitsStore } from '../telemetry/shared-limits';
import { Telemetry } from '../telemetry/telemetry';
import type { TelemetrySource } from '../telemetry/types';
import { AccessService } from '../usecases/access';
import { actor } from '../usecases/actor';
import { CommandGuard } from '../usecases/command-guard';
import { Limits } from '../usecases/limits';
import { UsageService } from '../usecases/usage-service';
import { type Tenancy, tenancyFrom } from '../workspaces';
import type { Workspaces } from '../workspaces/types';

export interface CoreOptions {
  config: Config;
  /** Queue settings (tests shorten the back-off and use their own prefix). */
  queue?: Partial<QueueSettings>;
  catalog?: CatalogEntry[];
  /** The clock; tests pass a fixed one. */
  now?: () => DateTime;
  logger?: Logger;
  /** Key prefix in Redis, so tests and several installs can share one server. */
  keyPrefix?: string;
  /** Telemetry sources to use instead of those built from the config (tests). */
  telemetrySources?: TelemetrySource[];
  /** Per-channel pacing of posts (tests and benches). */
  pacing?: Partial<PacingSettings>;
}

/**
 * What one capability tells the others, bound when the capability that answers is composed:
 * proposals ask launch-and-watch to settle a feature or re-plan its checks, cards ask learning
 * for the owner's calibration line.
 */
export interface Hooks {
  settle?: (feature: Feature) => Promise<Check | null>;
  /** A feature was dropped: its scheduled work ends. */
  dropped?: (feature: Feature) => Promise<void>;
  expectationChanged?: (previous: Feature | null, feature: Feature) => Promise<void>;
  expectationNote?: (feature: Feature) => Promise<string | null>;
  cardLine?: (feature: Feature) => Promise<string | null>;
}

/** What every capability shares: settings, clock, Redis, the queue, the stores, telemetry, Slack, access. */
export interface Core {
  config: Config;
  log: Logger;
  now: () => DateTime;
  prefix: string;
  redis: RedisClient;
  /** The producers' connection: fails as the store's does, so nobody waits for ever. */
  queueRedis: RedisClient;
  queue: Queue<JobData>;
  queueSettings: QueueSettings;
  /** One pacing job per channel with posts waiting. */
  pacingQueue: Queue<PaceJob>;
  /** Posts of results wait for their channel's pacer, in order of due time. */
  pacing: ChannelPacing;
  /** Features, by role: the records, their checks and notes, the retro index, idempotency marks, digest schedules. */
  store: FeatureStore;
  checks: CheckStore;
  retros: RetroIndex;
  marks: Marks;
  schedules: DigestSchedules;
  audit: AuditStore;
  epoch: () => Promise<string>;
  telemetry: Telemetry;
  metrics: BotMetrics;
  usage: UsageService;
  workspaces: Workspaces;
  /** One workspace (SLACK_BOT_TOKEN) or many installed through OAuth: authorize, install store, API tokens. */
  tenancy: Tenancy;
  /** The Web API options every client takes (URL, retries, time-out, the guarded fetch). */
  clientOptions: import('@slack/bolt').webApi.WebClientOptions;
  /** The Slack port for answers to people (retries a little). */
  slack: WebApiPort;
  /** The Slack port for jobs: fails fast on 429, so the job waits in the delayed set. */
  jobSlack: WebApiPort;
  /** Exactly-once, paced effects of jobs. */
  effects: Effects;
  access: AccessService;
  guard: CommandGuard;
  hooks: Hooks;
}

function telemetryFrom(
  config: Config,
  log: Logger,
  now: () => DateTime,
  shared: SharedLimitsStore,
): TelemetrySource[] {
  const sources: TelemetrySource[] = [];
  if (config.prometheusUrl) {
    sources.push(
      new PrometheusClient({
        baseUrl: config.prometheusUrl,
        fetch: createResilientFetch({ source: 'prometheus', timeoutMs: 10_000, retries: 2, log, shared }),
      }),
    );
  }
  if (config.posthog) {
    sources.push(
      new PostHogClient({
        baseUrl: config.posthog.url,
        apiKey: config.posthog.apiKey,
        projectId: config.posthog.projectId,
        log,
        shared,
      }),
    );
  }
  if (config.honeycomb) {
    sources.push(
      new HoneycombClient({
        baseUrl: config.honeycomb.url,
        apiKey: config.honeycomb.apiKey,
        dataset: config.honeycomb.dataset,
        log,
        shared,
        // Honeycomb answers only its recent days: "recent" is judged by the bot's clock.
        now,
      }),
    );
  }
  return sources;
}

/** Builds what every capability shares. Nothing here listens or works yet. */
export function createCore(opts: CoreOptions): Core {
  const { config } = opts;
  const log = opts.logger ?? createLogger(config.logLevel);
  const now = opts.now ?? (() => DateTime.utc());
  const prefix = opts.keyPrefix ?? config.redisPrefix;
  const redis = createRedis(config, STORE_REDIS_OPTIONS);
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const queueRedis = createRedis(config, STORE_REDIS_OPTIONS);
  queueRedis.on('error', (err) => log.warn({ err }, 'redis (queue) connection error'));
  const queueSettings: QueueSettings = {
    ...DEFAULT_QUEUE_SETTINGS,
    prefix: bullPrefix(prefix),
    ...opts.queue,
  };
  const queue = boundedQueue(createQueue(queueRedis, queueSettings));
  // Who changed what: every write of a feature is recorded in its history, in the same script as the write.
  const store = new FeatureStore(redis, prefix, (before, after) =>
    auditEntries(before, after, actor(), now().toUTC().toISO()!),
  );
  const marks = new Marks(redis, prefix);
  const audit = new AuditStore(redis, prefix);
  const epoch = installEpoch(redis, prefix);
  const measurements = new MeasurementCache(redis, prefix);
  const telemetry = new Telemetry(
    opts.telemetrySources ?? telemetryFrom(config, log, now, { redis, prefix }),
    opts.catalog ?? [],
    measurements,
    // PostHog checks due together are measured in one query (src/telemetry/measurement-batches.ts).
    new MeasurementBatches(redis, prefix, measurements),
  );
  const pacingQueue = boundedQueue(createPacingQueue(queueRedis, queueSettings.prefix));
  const pacing = new ChannelPacing({
    redis,
    prefix,
    marks,
    queue: pacingQueue,
    log,
    settings: { attempts: queueSettings.attempts, backoffMs: queueSettings.backoffMs, ...opts.pacing },
  });
  const metrics = new BotMetrics(() =>
    queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed'),
  );
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    // Bolt's default retries for about 30 minutes; a chat bot's answer is useless by then.
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    timeout: 10_000,
    // Every request to Slack (Web API and response_url) passes one door: no pings, epoch on buttons.
    fetch: guardedFetch(nodeFetch, epoch),
  };
  const hooks: Hooks = {};
  const tenancy = tenancyFrom({ config, redis, prefix, now, log, clientOptions });
  const { workspaces } = tenancy;
  const cardLine = (feature: Feature) => hooks.cardLine?.(feature) ?? Promise.resolve(null);
  const slack = new WebApiPort({ workspaces, clientOptions, cardLine });
  const jobSlack = new WebApiPort({
    workspaces,
    clientOptions: { ...clientOptions, rejectRateLimitedCalls: true },
    cardLine,
  });
  const access = new AccessService({ redis, prefix, directory: slack.directory, admins: config.admins, log });
  return {
    ...{ config, log, now, prefix, redis, queueRedis, queue, queueSettings, store, audit, epoch, marks },
    checks: new CheckStore(redis, prefix),
    retros: new RetroIndex(redis, prefix),
    schedules: new DigestSchedules(redis, prefix),
    ...{ telemetry, metrics, workspaces, tenancy, clientOptions, slack, jobSlack, access, hooks },
    ...{ pacingQueue, pacing },
    usage: new UsageService({ telemetry, log, zone: config.timezone }),
    effects: new Effects(marks, redis, prefix),
    guard: new CommandGuard({ access, limits: new Limits(redis, prefix, now), store }),
  };
}
