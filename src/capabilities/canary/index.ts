import { canaryApiRoutes } from '../../http/canary-api';
import { canaryHandler } from '../../slack/listeners/commands/canary';
import { CanaryService } from '../../usecases/canary-service';
import type { FeatureService } from '../../usecases/feature-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** Canary judgements: `canary`, and the canary API for deploy pipelines. */
export function canary(core: Core, features: FeatureService) {
  const { telemetry, store, log, now, config } = core;
  const service = new CanaryService({ telemetry, store, log, now });
  return {
    subcommands: { canary: canaryHandler({ canary: service, features, slack: core.slack, log }) },
    routes: canaryApiRoutes(() => ({
      ...(config.apiToken ? { token: config.apiToken } : {}),
      ...(core.tenancy.apiTokens ? { workspaceTokens: core.tenancy.apiTokens } : {}),
      canary: service,
    })),
  } satisfies Capability<'canary'>;
}
