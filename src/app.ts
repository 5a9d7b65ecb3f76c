import type { Server } from 'node:http';
import { App, LogLevel, type Receiver, webApi } from '@slack/bolt';
import type { ExtendedErrorHandlerArgs } from '@slack/bolt/dist/App';
import type { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { annotations } from './capabilities/annotations';
import { api } from './capabilities/api';
import { canary } from './capabilities/canary';
import { type CoreOptions, createCore } from './capabilities/core';
import { digests } from './capabilities/digests';
import { flags } from './capabilities/flags';
import { guardrails } from './capabilities/guardrails';
import { learning, learningService } from './capabilities/learning';
import { proposals } from './capabilities/proposals';
import { retros } from './capabilities/retros';
import type { Capability, Shared, SubcommandHandlers, SubcommandName } from './capabilities/types';
import { watch as launchAndWatch } from './capabilities/watch';
import { workspaces as workspacesCapability } from './capabilities/workspaces';
import type { BotMetrics } from './http/metrics';
import { slackReceiver } from './http/receiver';
import { serveRoutes } from './http/route-server';
import { healthRoute, livenessRoute, readinessRoute } from './http/routes';
import { boundedQueue } from './jobs/bounded-queue';
import { createPacingWorker, type PaceJob, posterDelivery } from './jobs/pacing';
import type { JobData } from './jobs/queue';
import { createWorker, type JobProcessor } from './jobs/worker';
import { boltLogger } from './slack/bolt-logger';
import * as commands from './slack/listeners/commands/donedone-command';
import { submissionDeciders } from './slack/listeners/views/validate';
import { slackErrorCode } from './slack/slack-failure';
import type { CheckStore } from './store/check-store';
import type { DigestSchedules } from './store/digest-schedules';
import type { FeatureStore } from './store/feature-store';
import { migrateKeyLayout } from './store/key-layout';
import { bullPrefix } from './store/keys';
import {
  createRedis,
  dataNodes,
  isCluster,
  nodeName,
  type RedisClient,
  refuseVolatileRedis,
} from './store/redis-connection';
import type { Telemetry } from './telemetry/telemetry';
import { NotQueuedError, useIntake } from './tiers/intake';
import { createRequestQueue, createRequestWorker, isQueued, type RequestJob } from './tiers/requests';
import type { FeatureService } from './usecases/feature-service';
import type { GuardService } from './usecases/guard-service';
import type { WatchService } from './usecases/watch-service';
import { NotInstalledError } from './workspaces/installation-store';
import type { WorkspaceLifecycle } from './workspaces/lifecycle';
import type { Workspaces } from './workspaces/types';

export interface AppOptions extends CoreOptions {
  /** Run a job worker in this process (default true). */
  worker?: boolean;
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
  checks: CheckStore;
  schedules: DigestSchedules;
  service: FeatureService;
  telemetry: Telemetry;
  guards: GuardService;
  workspaces: Workspaces;
  /** One pacing job per channel with posts waiting (`ChannelPacing`). */
  pacing: Queue<PaceJob>;
  /** Uninstalls, retention and forgetting of workspaces. */
  lifecycle: WorkspaceLifecycle;
  log: Logger;
  start(port?: number): Promise<{ port: number }>;
  stop(): Promise<void>;
}

/**
 * Composes donedone from its capabilities (src/capabilities): each brings its subcommands,
 * listeners, job processors and routes. Data flows one way: Slack → web tier (acknowledge,
 * enqueue) → request queue → worker → listener → use case → store / telemetry / Slack port.
 */
export function createDonedone(opts: AppOptions): Donedone {
  const core = createCore(opts);
  const { config, log, redis, metrics } = core;
  const learningSvc = learningService(core);
  const proposed = proposals(core, learningSvc);
  const features = proposed.service;
  const watched = launchAndWatch(core, features);
  const guarded = guardrails(core);
  const digested = digests(core, features, learningSvc);
  const learned = learning(core, learningSvc, features);
  const retro = retros(core, features, watched.service);
  const canaries = canary(core, features);
  const flagged = flags(core, features);
  const tenants = workspacesCapability(core);
  // Every subcommand must have its handler: a capability left out fails to compile here.
  const handlers: SubcommandHandlers = {
    ...proposed.subcommands,
    ...learned.subcommands,
    ...watched.subcommands,
    ...digested.subcommands,
    ...retro.subcommands,
    ...canaries.subcommands,
    ...flagged.subcommands,
    ...guarded.subcommands,
    ...tenants.subcommands,
  };
  const all: readonly Capability<SubcommandName>[] = [
    ...[proposed, learned, watched, digested, retro, canaries, flagged, guarded, tenants],
    annotations(core, watched.service),
    api(core, features, watched.service, guarded.service),
  ] as Capability<SubcommandName>[];
  const processors = new Map<string, JobProcessor>(all.flatMap((c) => Object.entries(c.processors ?? {})));

  const role = config.role;
  const takesRequests = opts.serve ?? role !== 'worker';
  const customRoutes = [
    healthRoute(redis),
    livenessRoute(),
    readinessRoute(redis),
    metrics.route(),
    ...all.flatMap((c) => c.routes ?? []),
  ];
  // Every request is authorized for its own workspace (src/workspaces): by Bolt's OAuth receiver
  // from the installation store where it serves the install pages, else by tenancy.authorize (a
  // worker; single-workspace mode, whose bot identity is learnt once by auth.test at start, and
  // which refuses other workspaces' requests).
  const { tenancy } = core;
  const oauth = takesRequests ? tenancy.oauth : undefined;
  const bolt = new App({
    ...(oauth ? {} : { authorize: tenancy.authorize }),
    ...(!takesRequests
      ? { receiver: idleReceiver() }
      : config.slack.appToken
        ? // Socket Mode serves /healthz, /metrics, the API and the install pages on PORT.
          { appToken: config.slack.appToken, socketMode: true, customRoutes, port: config.port, ...oauth }
        : {
            // Bolt's receiver with donedone's limits: 1 MB bodies, 400 for an undecodable path.
            receiver: slackReceiver({
              signingSecret: config.slack.signingSecret!,
              customRoutes,
              logger: boltLogger(log),
              ...(oauth ? { oauth } : {}),
            }),
          }),
    // No listener uses Bolt's conversation store; left on, it throws and catches an Error per request.
    convoStore: false,
    // The error handler sees the context: a queued request's failure must fail its job.
    extendedErrorHandler: true,
    logger: boltLogger(log),
    logLevel: LogLevel.WARN,
    clientOptions: core.clientOptions,
  });

  const run: commands.CommandRunner = (job) =>
    commands.runCommand(job, shared, commands.countCommand(metrics));
  const shared: Shared = {
    ...{ config, service: features, telemetry: core.telemetry, log, now: core.now, handlers },
    ...{
      watch: watched.service,
      metrics,
      learning: learningSvc,
      guard: core.guard,
      access: core.access,
      run,
    },
  };
  commands.register(bolt, shared, run);
  for (const c of all) c.listen?.(bolt, shared);

  // -- the web tier: acknowledge from the request alone, queue it for a worker --
  const requestRedis = createRedis(config, { maxRetriesPerRequest: null });
  requestRedis.on('error', (err) => log.warn({ err }, 'redis (requests) connection error'));
  // Bounded: the acknowledgement waits for the queue, so with Redis down or frozen it says within 2 s
  // (inside Slack's 3) that nothing was saved.
  const requests = boundedQueue(createRequestQueue(requestRedis, bullPrefix(core.prefix)), 2_000);
  useIntake(bolt, {
    queue: requests,
    log,
    deciders: {
      command: (body) => {
        const decided = commands.decideAck(String(body.text ?? ''), features);
        if (decided.kind === 'run') return { enqueue: true };
        if (decided.refused) metrics.commands.inc({ command: decided.refused, outcome: 'refused' });
        return { ack: { response_type: 'ephemeral', text: decided.text }, enqueue: false };
      },
      view: submissionDeciders(core.telemetry),
    },
    notTaken: { response_type: 'ephemeral', text: commands.NOTHING_SAVED },
  });
  bolt.error((async ({ error, context }: ExtendedErrorHandlerArgs) => {
    // No installation serves the request (uninstalled, another workspace): logged where refused.
    if (notInstalled(error)) return;
    if ((error as { code?: string }).code === 'slack_bolt_authorization_error') {
      // The store could not be asked: fail the request (a queued one is retried, Slack retries an
      // event answered with an error) rather than drop it as if nobody had installed the app.
      log.warn({ err: error }, 'could not authorize a request: the installation store did not answer');
      throw error;
    }
    log.error({ err: error, code: (error as { code?: string }).code }, 'listener error');
    // A request run from the queue fails its job, so BullMQ retries it; an event the web tier could
    // not queue fails its HTTP answer, so Slack sends it again.
    if ((context && isQueued(context)) || error instanceof NotQueuedError) throw error;
  }) as never);

  let worker: Worker<JobData> | undefined;
  let requestWorker: Worker<RequestJob> | undefined;
  let workerServer: Server | undefined;
  let workerRedis: RedisClient | undefined;
  let pacingWorker: Worker<PaceJob> | undefined;
  return {
    bolt,
    redis,
    store: core.store,
    checks: core.checks,
    schedules: core.schedules,
    service: features,
    telemetry: core.telemetry,
    guards: guarded.service,
    workspaces: core.workspaces,
    lifecycle: tenants.lifecycle,
    log,
    queue: core.queue,
    requests,
    pacing: core.pacingQueue,
    watch: watched.service,
    metrics,
    async start(port = config.port) {
      await warnAboutRedis(redis, log);
      await refuseVolatileRedis(redis, config.allowVolatileRedis);
      // Before any worker takes a job: a store of the layout before hash tags is moved once.
      await migrateKeyLayout(redis, core.prefix, log);
      if (tenancy.single) {
        // One workspace: whose token it is (other teams' requests are refused from now on).
        const token = await checkSlackToken(
          new webApi.WebClient(config.slack.botToken, core.clientOptions),
          log,
        );
        tenancy.single.learn({ ...(token.team ? { team: token.team } : {}), ...token.identity });
      } else {
        // Many: the start-up step of a key rotation (re-encrypts what DONEDONE_ENCRYPTION_KEY_OLD made).
        await tenancy.installations?.reencrypt();
      }
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
          settings: core.queueSettings,
          watch: watched.service,
          log,
          processors,
        });
        requestWorker = createRequestWorker({
          connection: workerRedis,
          prefix: bullPrefix(core.prefix),
          bolt,
          log,
        });
        pacingWorker = createPacingWorker({
          connection: workerRedis,
          prefix: core.queueSettings.prefix,
          pacing: core.pacing,
          deliver: posterDelivery(core.store, core.jobSlack, log),
          log,
        });
        // Only installs can be uninstalled: the retention sweep is for many-workspace mode.
        if (tenancy.installations) await tenants.lifecycle.schedule();
      }
      const address = server?.address();
      workerServer = takesRequests ? undefined : server;
      // Socket Mode's receiver keeps its HTTP server to itself: it listens on PORT (config.port).
      const listening = takesRequests && config.slack.appToken ? config.port : port;
      return { port: typeof address === 'object' && address ? address.port : listening };
    },
    /** Stops taking work, lets running jobs finish, closes every connection. */
    async stop() {
      if (takesRequests) await bolt.stop().catch(() => undefined);
      workerServer?.close();
      // Work under way may finish; a worker still closing after the grace has its connections
      // disconnected (its jobs are taken over once their locks lapse), so a stop never hangs.
      for (const w of [requestWorker, pacingWorker, worker]) await closeAllWithin([w], STOP_GRACE_MS, log);
      // BullMQ closes only the connections it made; these are ours.
      workerRedis?.disconnect();
      for (const q of [requests, core.pacingQueue, core.queue]) await closeAllWithin([q], 3_000, log);
      core.queueRedis.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** How long a stop waits for work under way before it closes the workers by force. */
const STOP_GRACE_MS = 10_000;

type Closable = { close(): Promise<void>; disconnect(): Promise<void>; name: string };

/** Resolves after `ms` without keeping the process alive; `cancel` ends the wait early. */
function pause(ms: number): { done: Promise<'late'>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
    timer.unref();
  });
  return { done, cancel: () => clearTimeout(timer) };
}

/**
 * Closes BullMQ workers or queues together; those still closing after `ms` (a worker whose
 * connections a Redis restart cut can wait on them for ever) have their connections disconnected.
 */
async function closeAllWithin(closables: (Closable | undefined)[], ms: number, log: Logger): Promise<void> {
  const open = closables.filter((c): c is Closable => c !== undefined);
  const settled = new Set<Closable>();
  const closing = Promise.all(
    open.map((c) =>
      c.close().then(
        () => settled.add(c),
        () => settled.add(c),
      ),
    ),
  );
  const grace = pause(ms);
  await Promise.race([closing, grace.done]);
  grace.cancel();
  const late = open.filter((c) => !settled.has(c));
  if (late.length === 0) return;
  log.warn({ queues: late.map((c) => c.name) }, 'still closing after the grace: disconnecting them');
  const cut = pause(2_000);
  await Promise.race([Promise.allSettled(late.map((c) => c.disconnect())), cut.done]);
  cut.cancel();
}

/** Whether an authorization failure is "not installed" (Bolt and its OAuth wrap the error once each). */
function notInstalled(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; e = (e as { original?: unknown }).original, depth++) {
    if (e instanceof NotInstalledError) return true;
  }
  return false;
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
): Promise<{ team?: string; identity: { botId?: string; botUserId?: string } }> {
  try {
    const auth = await client.auth.test();
    log.info({ team: auth.team_id, botUser: auth.user_id }, 'connected to Slack');
    return {
      ...(auth.team_id ? { team: auth.team_id } : {}),
      identity: {
        ...(auth.bot_id ? { botId: auth.bot_id } : {}),
        ...(auth.user_id ? { botUserId: auth.user_id } : {}),
      },
    };
  } catch (err) {
    const code = slackErrorCode(err);
    if (code && REJECTED_TOKEN.has(code)) {
      throw new Error(
        `Slack rejected SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions`,
      );
    }
    log.warn({ err }, "could not reach Slack's Web API; continuing, posts will retry");
    return { identity: {} };
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
