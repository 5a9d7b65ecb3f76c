import type { App } from '@slack/bolt';
import type { WorkspaceLifecycle } from '../../../workspaces/lifecycle';

/**
 * `app_uninstalled` and `tokens_revoked` (a bot token revoked): the workspace's tokens are deleted
 * and its schedules stopped; its features are kept for DONEDONE_RETENTION_DAYS. Bolt skips
 * authorization for these two events (the token is already gone), so they reach the listener.
 * Org-wide installs (Enterprise Grid) are uninstalled by enterprise.
 */
export function register(app: App, deps: { lifecycle: WorkspaceLifecycle }): void {
  app.event('app_uninstalled', async ({ context }) => {
    await deps.lifecycle.uninstalled(refOf(context), 'app_uninstalled');
  });
  app.event('tokens_revoked', async ({ event, context }) => {
    // Only a revoked bot token matters: donedone keeps no user tokens.
    if ((event.tokens.bot ?? []).length === 0) return;
    await deps.lifecycle.uninstalled(refOf(context), 'tokens_revoked');
  });
}

function refOf(context: { teamId?: string; enterpriseId?: string; isEnterpriseInstall?: boolean }) {
  return {
    ...(context.teamId ? { teamId: context.teamId } : {}),
    ...(context.enterpriseId ? { enterpriseId: context.enterpriseId } : {}),
    isEnterpriseInstall: context.isEnterpriseInstall === true,
  };
}
