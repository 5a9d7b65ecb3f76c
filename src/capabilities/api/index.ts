import { apiRoutes } from '../../http/api';
import type { FeatureService } from '../../usecases/feature-service';
import type { GuardService } from '../../usecases/guard-service';
import type { WatchService } from '../../usecases/watch-service';
import type { Core } from '../core';
import type { Capability } from '../types';

/** The HTTP API: features, their checks and history, and the release gate. */
export function api(core: Core, features: FeatureService, watch: WatchService, guards: GuardService) {
  const { config, store, audit } = core;
  const deps = {
    ...(config.apiToken ? { token: config.apiToken } : {}),
    // Many workspaces: tokens from `/donedone api-token`, each seeing its own workspace only.
    ...(core.tenancy.apiTokens ? { workspaceTokens: core.tenancy.apiTokens } : {}),
    gateGraceHours: config.gateGraceHours,
    ...{ store, features, watch, guards, audit },
  };
  return { subcommands: {}, routes: apiRoutes(() => deps) } satisfies Capability;
}
