import * as retroActions from '../../slack/listeners/actions/retro';
import { retroHandler } from '../../slack/listeners/commands/retro';
import * as retroNotes from '../../slack/listeners/events/retro-notes';
import type { FeatureService } from '../../usecases/feature-service';
import { type ReminderJob, type RetroJob, RetroService } from '../../usecases/retro-service';
import type { WatchService } from '../../usecases/watch-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** Retros: opened at the deadline (or by `retro`), with a chart, a reminder, Keep/Iterate/Remove and notes. */
export function retros(core: Core, features: FeatureService, watch: WatchService) {
  const { store, telemetry, usage, queue, log, now, access } = core;
  const service = new RetroService({
    ...{ store, telemetry, features, usage, queue, log, now },
    effects: core.effects,
    jobSlack: core.jobSlack,
    slack: core.slack,
  });
  watch.onFinal(async (feature) => {
    await service.requestOpen(feature, 'deadline');
  });
  return {
    subcommands: { retro: retroHandler(service) },
    processors: {
      retro: (job, { lastAttempt }) => service.openJob(job.data as unknown as RetroJob, lastAttempt),
      'retro-reminder': (job) => service.reminderJob(job.data as unknown as ReminderJob),
    },
    listen(bolt) {
      retroActions.register(bolt, { retro: service, log, access, features });
      retroNotes.register(bolt, { retro: service, log });
    },
  } satisfies Capability<'retro'>;
}
