import { createFlagProvider } from '../../flags';
import * as guardActions from '../../slack/listeners/actions/guard';
import { guardHandler } from '../../slack/listeners/commands/guard';
import { type GuardEventJob, type GuardRoundJob, GuardService } from '../../usecases/guard-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** Guardrails: `guard`, the rounds every few minutes, breach/recovery posts, Pause rollout and Dismiss. */
export function guardrails(core: Core) {
  const { store, telemetry, queue, redis, prefix, config, access, metrics, log, now } = core;
  const service = new GuardService({
    ...{ store, telemetry, queue, redis, prefix, access, log, now },
    jobPoster: core.jobSlack,
    poster: core.slack,
    effects: core.effects,
    flags: createFlagProvider(config.flags),
    admins: config.admins,
    intervalMs: config.guardIntervalSeconds * 1000,
    telemetryErrors: metrics.telemetryErrors,
    zone: config.timezone,
  });
  return {
    service,
    subcommands: {
      guard: guardHandler({
        guards: service,
        isCatalogName: telemetry.isCatalogName,
        now,
        zone: config.timezone,
      }),
    },
    processors: {
      'guard-round': async (job) => {
        const r = await service.round((job.data as GuardRoundJob).round);
        return `round ${r.round}: ${r.features} features, ${r.guards} guards, ${r.queries} queries, ${r.outages} outages, ${r.events} events`;
      },
      'guard-event': (job) => service.eventJob(job.data as unknown as GuardEventJob),
    },
    listen(bolt) {
      guardActions.register(bolt, { guards: service, log });
    },
  } satisfies Capability<'guard'> & { service: GuardService };
}
