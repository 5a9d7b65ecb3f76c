import type { Server } from 'node:http';
import { App, type CustomRoute, LogLevel, type Receiver, webApi } from '@slack/bolt';
import type { ExtendedErrorHandlerArgs } from '@slack/bolt/dist/App';
import type { Queue, Worker } from 'bullmq';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { annotatorFrom } from './annotations';
import { annotateWatch } from './annotations/annotate-watch';
import type { Config } from './config';
import { auditEntries } from './domain/audit';
import type { CatalogEntry } from './domain/catalog';
import type { Feature } from './domain/model';
import { createFlagProvider } from './flags';
import { apiRoutes } from './http/api';
import { canaryApiRoutes } from './http/canary-api';
import { BotMetrics } from './http/metrics';
import { slackReceiver } from './http/receiver';
import { serveRoutes } from './http/route-server';
import { healthRoute, livenessRoute, readinessRoute } from './http/routes';
import { boundedQueue } from './jobs/bounded-queue';
import { digestProcessors } from './jobs/digest-processors';
import { Effects } from './jobs/effects';
import { createQueue, DEFAULT_QUEUE_SETTINGS, type JobData, type QueueSettings } from './jobs/queue';
import { createWorker, type JobProcessor } from './jobs/worker';
import { createLogger } from './log';
import { boltLogger } from './slack/bolt-logger';
import { slackDirectory } from './slack/directory';
import * as actions from './slack/listeners/actions';
import * as guardActions from './slack/listeners/actions/guard';
import * as homeActions from './slack/listeners/actions/home';
import * as retroActions from './slack/listeners/actions/retro';
import * as suggestActions from './slack/listeners/actions/suggest';
import { canaryHandler } from './slack/listeners/commands/canary';
import { digestHandler } from './slack/listeners/commands/digest';
import * as commands from './slack/listeners/commands/donedone-command';
import { flagHandler } from './slack/listeners/commands/flag';
import { guardHandler } from './slack/listeners/commands/guard';
import { launchHandler } from './slack/listeners/commands/launch';
import { metricsHandler } from './slack/listeners/commands/metrics';
import { ownerHandler } from './slack/listeners/commands/owner';
import { retroHandler } from './slack/listeners/commands/retro';
import { scorecardHandler } from './slack/listeners/commands/scorecard';
import { suggestHandler } from './slack/listeners/commands/suggest';
import { usageHandler } from './slack/listeners/commands/usage';
import type { ListenerDeps, SubcommandHandler } from './slack/listeners/deps';
import * as epochCheck from './slack/listeners/epoch';
import * as events from './slack/listeners/events';
import * as homeEvents from './slack/listeners/events/home';
import * as membershipEvents from './slack/listeners/events/membership';
import * as retroNotes from './slack/listeners/events/retro-notes';
import * as options from './slack/listeners/options';
import * as shortcuts from './slack/listeners/shortcuts';
import * as views from './slack/listeners/views';
import { submissionDeciders } from './slack/listeners/views/validate';
import { guardedFetch } from './slack/outgoing';
import { SlackPoster, slackErrorCode } from './slack/poster';
import { AuditStore } from './store/audit-store';
import { FeatureStore } from './store/feature-store';
import { migrateKeyLayout } from './store/key-layout';
import { bullPrefix } from './store/keys';
import {
  createRedis,
  dataNodes,
  installEpoch,
  isCluster,
  nodeName,
  type RedisClient,
  refuseVolatileRedis,
  STORE_REDIS_OPTIONS,
} from './store/redis-connection';
import { HoneycombClient } from './telemetry/honeycomb-client';
import { MeasurementCache } from './telemetry/measurement-cache';
import { PostHogClient } from './telemetry/posthog-client';
import { PrometheusClient } from './telemetry/prometheus-client';
import { createResilientFetch } from './telemetry/resilient-fetch';
import type { SharedLimitsStore } from './telemetry/shared-limits';
import { Telemetry } from './telemetry/telemetry';
import type { TelemetrySource } from './telemetry/types';
import { useIntake } from './tiers/intake';
import { createRequestQueue, createRequestWorker, isQueued, type RequestJob } from './tiers/requests';
import { AccessService } from './usecases/access';
import { actor } from './usecases/actor';
import { CanaryService } from './usecases/canary-service';
import { CommandGuard } from './usecases/command-guard';
import { DigestService } from './usecases/digest-service';
import { FeatureService } from './usecases/feature-service';
import { type GuardEventJob, type GuardRoundJob, GuardService } from './usecases/guard-service';
import { LearningService } from './usecases/learning-service';
import { Limits } from './usecases/limits';
import { type ReminderJob, type RetroJob, RetroService } from './usecases/retro-service';
import { UsageService } from './usecases/usage-service';
import { WatchService } from './usecases/watch-service';

export interface AppOptions {
  /** Queue settings (tests shorten the back-off and use their own prefix). */
  queue?: Partial<QueueSettings>;
  /** Run a job worker in this process (default true). */
  worker?: boolean;
  config: Config;
  catalog?: CatalogEntry[];
  /** The clock; tests pass a fixed one. */
  now?: () => DateTime;
  logger?: Logger;
  /** Key prefix in Redis, so tests and several installs can share one server. */
  keyPrefix?: string;
  /** Telemetry sources to use instead of those built from the config (tests). */
  telemetrySources?: TelemetrySource[];
  /** Take Slack's requests and serve HTTP (default: as DONEDONE_ROLE says). */
  serve?: boolean;
}

export interface Donedone {
  bolt: App;
  queue: Queue<JobData>;
  /** Slack requests acknowledged by a web process, waiting for a worker. */
  requests: Queue<RequestJob>;
  watch: WatchService;
  metrics: BotMetrics;
  redis: RedisClient;
  store: FeatureStore;
  service: FeatureService;
  telemetry: Telemetry;
  guards: GuardService;
  log: Logger;
  /** Does an acknowledged command's work here; `counted` receives its outcome for /metrics. */
  runCommand(job: commands.CommandJob, counted?: (outcome: commands.CommandOutcome) => void): Promise<void>;
  start(port?: number): Promise<{ port: number }>;
  stop(): Promise<void>;
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

/** The one place where donedone's objects are created and wired together. */
export function createDonedone(opts: AppOptions): Donedone {
  const { config } = opts;
  const log = opts.logger ?? createLogger(config.logLevel);
  const now = opts.now ?? (() => DateTime.utc());
  const prefix = opts.keyPrefix ?? config.redisPrefix;
  const redis = createRedis(config, STORE_REDIS_OPTIONS);
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  // The producers' connection fails as the store's does, so nobody waits for ever (workers keep their own).
  const queueRedis = createRedis(config, STORE_REDIS_OPTIONS);
  queueRedis.on('error', (err) => log.warn({ err }, 'redis (queue) connection error'));
  const queueSettings: QueueSettings = {
    ...DEFAULT_QUEUE_SETTINGS,
    prefix: bullPrefix(prefix),
    ...opts.queue,
  };
  const queue = boundedQueue(createQueue(queueRedis, queueSettings));
  const store = new FeatureStore(redis, prefix);
  // -- capability: who may see and change a feature (audit trail, access, limits) --
  const audit = new AuditStore(redis, prefix);
  store.onWrite((before, after) =>
    audit.record(after.team, after.id, auditEntries(before, after, actor(), now().toUTC().toISO()!)),
  );
  const epoch = installEpoch(redis, prefix);
  const telemetry = new Telemetry(
    opts.telemetrySources ?? telemetryFrom(config, log, now, { redis, prefix }),
    opts.catalog ?? [],
    new MeasurementCache(redis, prefix),
  );
  const metrics = new BotMetrics(() =>
    queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed'),
  );

  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    // Bolt's default retries for about 30 minutes; a chat bot's answer is useless by then.
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    timeout: 10_000,
    // Every request to Slack (Web API and response_url) passes one door: no pings, epoch on buttons.
    fetch: guardedFetch(globalThis.fetch, epoch),
  };
  let watch: WatchService | undefined;
  // Bolt reads its routes when constructed; the API's services are made below, hence the getter.
  const customRoutes: CustomRoute[] = [
    healthRoute(redis),
    livenessRoute(),
    readinessRoute(redis),
    metrics.route(),
    ...apiRoutes(() => ({
      ...(config.apiToken ? { token: config.apiToken } : {}),
      gateGraceHours: config.gateGraceHours,
      store,
      features: service,
      watch: watch!,
      guards,
      audit,
    })),
    ...canaryApiRoutes(() => ({ ...(config.apiToken ? { token: config.apiToken } : {}), canary })),
  ];
  // Who the bot is, learnt once by auth.test at start. Bolt's own single-token mode asks Slack on
  // the way to every listener until it knows, so a Web API outage would delay every ack past 3 s.
  const identity: { botId?: string; botUserId?: string } = {};
  const role = config.role;
  const takesRequests = opts.serve ?? role !== 'worker';
  const bolt = new App({
    authorize: async () => ({ botToken: config.slack.botToken, ...identity }),
    ...(!takesRequests
      ? { receiver: idleReceiver() }
      : config.slack.appToken
        ? { appToken: config.slack.appToken, socketMode: true, customRoutes }
        : {
            // Bolt's receiver with donedone's limits: 1 MB bodies, 400 for an undecodable path.
            receiver: slackReceiver({
              signingSecret: config.slack.signingSecret!,
              customRoutes,
              logger: boltLogger(log),
            }),
          }),
    // No listener uses Bolt's conversation store; left on, it throws and catches an Error per request.
    convoStore: false,
    // The error handler sees the context: a queued request's failure must fail its job.
    extendedErrorHandler: true,
    logger: boltLogger(log),
    logLevel: LogLevel.WARN,
    clientOptions,
  });
  const webClient = new webApi.WebClient(config.slack.botToken, clientOptions);
  // -- capability: learning (calibration on answers and cards, metric suggestions) --
  const learning = new LearningService({
    store,
    telemetry,
    redis,
    prefix,
    now,
    log,
    zone: config.timezone,
    // Bound late: the access service is made below; asked only while the bot runs.
    visibleTo: (team, user, features) => access.visibleTo(team, user, features),
  });
  const cardLine = (feature: Feature) => learning.cardLine(feature);
  const poster = new SlackPoster(webClient, cardLine);
  const service = new FeatureService({
    store,
    telemetry,
    poster,
    log,
    now,
    zone: config.timezone,
    onExpectationChanged: (previous, feature) => watch!.expectationChanged(previous, feature),
    settle: (feature) => watch!.settle(feature),
    expectationNote: (feature) => learning.expectationNote(feature),
  });
  // Jobs post through a client that fails fast on 429, so a job waits in the delayed set, not in a worker.
  const jobClient = new webApi.WebClient(config.slack.botToken, {
    ...clientOptions,
    rejectRateLimitedCalls: true,
  });
  watch = new WatchService({
    store,
    telemetry,
    features: service,
    queue,
    queueSettings,
    poster: new SlackPoster(jobClient, cardLine),
    effects: new Effects(store, redis, prefix),
    metrics,
    log,
    now,
    zone: config.timezone,
  });
  const subcommands = new Map<string, SubcommandHandler>([
    ['launch', launchHandler(watch)],
    ['metrics', metricsHandler(telemetry)],
    ['owner', ownerHandler({ service, store })],
  ]);
  const access = new AccessService({
    redis,
    prefix,
    directory: slackDirectory(webClient),
    admins: config.admins,
    log,
  });
  const guard = new CommandGuard({ access, limits: new Limits(redis, prefix, now), store });
  /** Job processors of capabilities beyond checks, by job name. */
  const processors = new Map<string, JobProcessor>();
  // Capabilities register their subcommands, processors and routes below, one block each.
  // -- capability: canary --
  const canary = new CanaryService({ telemetry, store, log, now });
  subcommands.set('canary', canaryHandler({ canary, features: service, poster, client: webClient, log }));
  // -- capability: digests --
  const usage = new UsageService({ telemetry, log, zone: config.timezone });
  const digests = new DigestService({
    store,
    queue,
    usage,
    now,
    log,
    staleFlagDays: config.staleFlagDays,
    zone: config.timezone,
    monthlyLine: (team, channel, slot, at) => learning.monthlyDigestLine(team, channel, slot, at),
  });
  subcommands.set('digest', digestHandler({ digests, client: webClient, defaultZone: config.timezone }));
  subcommands.set('scorecard', scorecardHandler({ store, learning, guard }));
  subcommands.set('suggest', suggestHandler({ service, learning }));
  subcommands.set('usage', usageHandler({ service, usage, now }));
  subcommands.set('flag', flagHandler({ service, store, now, staleFlagDays: config.staleFlagDays }));
  const digestPoster = new SlackPoster(jobClient, cardLine);
  const digestJobs = digestProcessors({
    digests,
    effects: new Effects(store, redis, prefix),
    poster: digestPoster,
    post: async (channel, message) => {
      await jobClient.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks as never,
        unfurl_links: false,
      });
    },
    log,
    visibleIn: (team, channel, features) => access.visibleIn(team, channel, features),
  });
  for (const [name, processor] of digestJobs) processors.set(name, processor);
  const homeDeps: ListenerDeps = {
    ...{ config, service, store, telemetry, log, now, subcommands, watch, metrics },
    ...{ guard, access, audit },
  };
  homeEvents.register(bolt, homeDeps, digests);
  homeActions.register(bolt, homeDeps);
  // -- capability: retros --
  const retro = new RetroService({
    store,
    telemetry,
    features: service,
    usage,
    queue,
    effects: new Effects(store, redis, prefix),
    jobClient,
    client: webClient,
    log,
    now,
  });
  watch.onFinal(async (feature) => {
    await retro.requestOpen(feature, 'deadline');
  });
  subcommands.set('retro', retroHandler(retro));
  processors.set('retro', (job, { lastAttempt }) =>
    retro.openJob(job.data as unknown as RetroJob, lastAttempt),
  );
  processors.set('retro-reminder', (job) => retro.reminderJob(job.data as unknown as ReminderJob));
  retroActions.register(bolt, { retro, log, access, store });
  retroNotes.register(bolt, { retro, log });
  // -- capability: annotations (Grafana, PostHog) of launches and verdicts --
  annotateWatch(watch, annotatorFrom(config, log), async (key) =>
    Boolean(await redis.set(`${prefix}annotated:${key}`, '1', 'EX', 90 * 86_400, 'NX')),
  );

  // -- capability: guardrails --
  const guards = new GuardService({
    store,
    telemetry,
    queue,
    redis,
    prefix,
    jobPoster: new SlackPoster(jobClient, cardLine),
    poster,
    effects: new Effects(store, redis, prefix),
    flags: createFlagProvider(config.flags),
    admins: config.admins,
    access,
    intervalMs: config.guardIntervalSeconds * 1000,
    telemetryErrors: metrics.telemetryErrors,
    log,
    now,
    zone: config.timezone,
  });
  subcommands.set(
    'guard',
    guardHandler({ guards, isCatalogName: telemetry.isCatalogName, now, zone: config.timezone }),
  );
  processors.set('guard-round', async (job) => {
    const r = await guards.round((job.data as GuardRoundJob).round);
    return `round ${r.round}: ${r.features} features, ${r.guards} guards, ${r.queries} queries, ${r.outages} outages, ${r.events} events`;
  });
  processors.set('guard-event', (job) => guards.eventJob(job.data as unknown as GuardEventJob));
  guardActions.register(bolt, { guards, log });

  const deps: ListenerDeps = { ...homeDeps, learning };
  membershipEvents.register(bolt, { access });
  epochCheck.register(bolt, { epoch });
  suggestActions.register(bolt, deps);
  const runCommand = (job: commands.CommandJob, counted = commands.countCommand(metrics)) =>
    commands.runCommand(job, deps, webClient, commands.answerEphemerally, counted);
  commands.register(bolt, deps, runCommand);
  actions.register(bolt, deps, runCommand);
  for (const listeners of [views, events, shortcuts, options]) listeners.register(bolt, deps);
  // -- the web tier: acknowledge from the request alone, queue it for a worker --
  const requestRedis = createRedis(config, { maxRetriesPerRequest: null });
  requestRedis.on('error', (err) => log.warn({ err }, 'redis (requests) connection error'));
  // Bounded: with Redis down or frozen the asker is told within seconds that nothing was saved.
  const requests = boundedQueue(createRequestQueue(requestRedis, bullPrefix(prefix)), 5_000);
  useIntake(bolt, {
    queue: requests,
    log,
    deciders: {
      command: (body) => {
        const decided = commands.decideAck(String(body.text ?? ''), deps.service);
        if (decided.kind === 'run') return { enqueue: true };
        if (decided.refused) metrics.commands.inc({ command: decided.refused, outcome: 'refused' });
        return { ack: { response_type: 'ephemeral', text: decided.text }, enqueue: false };
      },
      view: submissionDeciders(telemetry),
    },
    refused: async (body) => {
      const url = typeof body.response_url === 'string' ? body.response_url : undefined;
      if (url) await commands.answerEphemerally(url, { text: commands.NOTHING_SAVED });
    },
  });
  bolt.error((async ({ error, context }: ExtendedErrorHandlerArgs) => {
    log.error({ err: error, code: (error as { code?: string }).code }, 'listener error');
    // A request run from the queue fails its job, so BullMQ retries it.
    if (context && isQueued(context)) throw error;
  }) as never);

  let worker: Worker<JobData> | undefined;
  let requestWorker: Worker<RequestJob> | undefined;
  let workerServer: Server | undefined;
  let workerRedis: RedisClient | undefined;
  const watchService = watch;
  return {
    bolt,
    redis,
    store,
    service,
    telemetry,
    guards,
    log,
    queue,
    requests,
    watch: watchService,
    metrics,
    runCommand,
    async start(port = config.port) {
      await warnAboutRedis(redis, log);
      await refuseVolatileRedis(redis, config.allowVolatileRedis);
      // Before any worker takes a job: a store of the layout before hash tags is moved once.
      await migrateKeyLayout(redis, prefix, log);
      Object.assign(identity, await checkSlackToken(webClient, log));
      let server: Server | undefined;
      if (takesRequests) {
        const started = (await bolt.start(port)) as unknown as Server | undefined;
        server = started && typeof started.address === 'function' ? started : undefined;
      } else if (opts.serve !== false) {
        // A worker takes no Slack requests but answers its probes and /metrics.
        server = await serveRoutes(
          [livenessRoute(), readinessRoute(redis), healthRoute(redis), metrics.route()],
          port,
        );
      }
      if (role !== 'web' && opts.worker !== false) {
        workerRedis = createRedis(config, { maxRetriesPerRequest: null });
        workerRedis.on('error', (err) => log.warn({ err }, 'redis (worker) connection error'));
        worker = createWorker({
          connection: workerRedis,
          settings: queueSettings,
          watch: watchService,
          log,
          processors,
        });
        requestWorker = createRequestWorker({
          connection: workerRedis,
          prefix: bullPrefix(prefix),
          bolt,
          log,
        });
      }
      const address = server?.address();
      workerServer = takesRequests ? undefined : server;
      return { port: typeof address === 'object' && address ? address.port : port };
    },
    /** Stops taking work, lets running jobs finish, closes every connection. */
    async stop() {
      if (takesRequests) await bolt.stop().catch(() => undefined);
      workerServer?.close();
      if (requestWorker) await requestWorker.close();
      if (worker) await worker.close();
      // BullMQ closes only the connections it made; these are ours.
      workerRedis?.disconnect();
      await requests.close();
      requestRedis.disconnect();
      await queue.close();
      queueRedis.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** A receiver that never listens: a worker runs requests from the queue, not from Slack. */
function idleReceiver(): Receiver {
  return { init: () => undefined, start: async () => undefined, stop: async () => undefined };
}

const REJECTED_TOKEN = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
]);

/**
 * Asks Slack who the token is. A token Slack rejects stops the start with a message saying
 * what to fix; an unreachable Web API is only a warning (posts retry when it is back).
 */
export async function checkSlackToken(
  client: webApi.WebClient,
  log: Logger,
): Promise<{ botId?: string; botUserId?: string }> {
  try {
    const auth = await client.auth.test();
    log.info({ team: auth.team_id, botUser: auth.user_id }, 'connected to Slack');
    return {
      ...(auth.bot_id ? { botId: auth.bot_id } : {}),
      ...(auth.user_id ? { botUserId: auth.user_id } : {}),
    };
  } catch (err) {
    const code = slackErrorCode(err);
    if (code && REJECTED_TOKEN.has(code)) {
      throw new Error(
        `Slack rejected SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions`,
      );
    }
    log.warn({ err }, "could not reach Slack's Web API; continuing, posts will retry");
    return {};
  }
}

/** Proposals live in Redis: say so when it could lose them. On a cluster every master is asked, and named. */
export async function warnAboutRedis(redis: RedisClient, log: Logger): Promise<string[]> {
  const warnings: string[] = [];
  try {
    for (const node of await dataNodes(redis)) {
      const which = isCluster(redis) ? `Redis Cluster master ${nodeName(node)}` : 'Redis';
      const [, appendonly] = (await node.config('GET', 'appendonly')) as string[];
      const [, policy] = (await node.config('GET', 'maxmemory-policy')) as string[];
      const [, save] = (await node.config('GET', 'save')) as string[];
      if (appendonly !== 'yes' && !save) {
        warnings.push(
          `${which} has no persistence (appendonly off, no RDB snapshots): a restart loses every proposal. Set \`appendonly yes\`.`,
        );
      } else if (appendonly !== 'yes') {
        warnings.push(
          `${which} persists only by RDB snapshots (appendonly off): a crash loses recent proposals. Set \`appendonly yes\`.`,
        );
      }
      if (policy && policy !== 'noeviction') {
        warnings.push(
          `${which} evicts keys under memory pressure (maxmemory-policy ${policy}): set maxmemory-policy noeviction.`,
        );
      }
    }
  } catch (err) {
    warnings.push(
      `Could not read Redis' configuration (${(err as Error).message}); make sure it persists and does not evict.`,
    );
  }
  for (const w of warnings) log.warn(w);
  return warnings;
}
