import { launchHandler } from '../../slack/listeners/commands/launch';
import type { FeatureService } from '../../usecases/feature-service';
import { WatchService } from '../../usecases/watch-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/**
 * Launch and watch: `launch`, the first-use watch, scheduled checks and verdicts. Its jobs
 * (`catch-up`, `first-use`, `check`) are the queue worker's own (src/jobs/worker.ts).
 */
export function watch(core: Core, features: FeatureService) {
  const { store, telemetry, queue, queueSettings, metrics, log, now, hooks } = core;
  const service = new WatchService({
    ...{ store, telemetry, features, queue, queueSettings, metrics, log, now },
    poster: core.jobSlack,
    effects: core.effects,
    zone: core.config.timezone,
  });
  hooks.settle = (feature) => service.settle(feature);
  hooks.expectationChanged = (previous, feature) => service.expectationChanged(previous, feature);
  hooks.dropped = (feature) => service.stop(feature);
  return {
    service,
    subcommands: { launch: launchHandler(service) },
  } satisfies Capability<'launch'> & { service: WatchService };
}
