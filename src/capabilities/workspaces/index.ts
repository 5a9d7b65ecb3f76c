import { apiTokenHandler, forgetWorkspaceHandler } from '../../slack/listeners/commands/workspace';
import * as uninstallEvents from '../../slack/listeners/events/uninstall';
import { RETENTION_JOB, WorkspaceLifecycle } from '../../workspaces/lifecycle';
import type { Core } from '../core';
import type { Capability } from '../types';

/**
 * Workspaces coming and going (PRODUCT.md "Many workspaces"): `api-token` and `forget-workspace`,
 * the `app_uninstalled` / `tokens_revoked` listeners, and the daily retention sweep. The install
 * itself (Bolt's OAuth receiver, authorize) is wired in app.ts from `core.tenancy`.
 */
export function workspaces(core: Core) {
  const { config, tenancy, access, store } = core;
  const lifecycle = new WorkspaceLifecycle({
    ...{ redis: core.redis, prefix: core.prefix, queue: core.queue, now: core.now, log: core.log },
    ...(tenancy.installations ? { installations: tenancy.installations } : {}),
    ...(tenancy.apiTokens ? { apiTokens: tenancy.apiTokens } : {}),
    retentionDays: config.retentionDays,
  });
  return {
    lifecycle,
    subcommands: {
      'api-token': apiTokenHandler({
        ...(tenancy.apiTokens ? { apiTokens: tenancy.apiTokens } : {}),
        access,
      }),
      'forget-workspace': forgetWorkspaceHandler({
        lifecycle,
        access,
        featureCount: async (team) => (await store.list(team)).length,
        retentionDays: config.retentionDays,
      }),
    },
    listen(bolt) {
      // A single token cannot be uninstalled from here: only installs have these events' work.
      if (tenancy.installations) uninstallEvents.register(bolt, { lifecycle });
    },
    processors: {
      [RETENTION_JOB]: async () => `forgot ${(await lifecycle.sweep()).length} workspaces`,
    },
  } satisfies Capability<'api-token' | 'forget-workspace'> & { lifecycle: WorkspaceLifecycle };
}
