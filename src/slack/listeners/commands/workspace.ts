import { DateTime } from 'luxon';
import type { Command } from '../../../domain/parse-command';
import type { AccessService } from '../../../usecases/access';
import { type ApiTokens, isTokenPrefix } from '../../../workspaces/api-tokens';
import type { WorkspaceLifecycle } from '../../../workspaces/lifecycle';
import type { SubcommandHandler } from '../deps';

const ADMINS_ONLY = 'workspace admins and owners (and the people in DONEDONE_ADMINS)';

/**
 * `/donedone api-token [list|revoke <prefix>]` (admins, many-workspace mode): a token for the HTTP
 * API that sees only this workspace. Shown once, in the answer only the asker sees; kept hashed.
 */
export function apiTokenHandler(deps: {
  apiTokens?: ApiTokens;
  access: Pick<AccessService, 'isAdmin'>;
}): SubcommandHandler {
  return async (cmd: Command, ctx) => {
    if (cmd.name !== 'api-token') return;
    const tokens = deps.apiTokens;
    if (!tokens) {
      return ctx.respond({
        text: 'API tokens per workspace come with the many-workspace install (OAuth). This donedone serves one workspace with SLACK_BOT_TOKEN: its HTTP API takes the operator’s DONEDONE_API_TOKEN; ask whoever runs donedone.',
      });
    }
    if (!(await deps.access.isAdmin(ctx.team, ctx.userId))) {
      return ctx.respond({
        text: `Only ${ADMINS_ONLY} can manage this workspace’s API tokens. Nothing changed. Ask one of them to run \`/donedone api-token\`.`,
      });
    }
    if (cmd.action === 'list') {
      const all = await tokens.list(ctx.team);
      if (all.length === 0)
        return ctx.respond({ text: 'This workspace has no API tokens. `/donedone api-token` makes one.' });
      const lines = all.map(
        (t) =>
          `• \`${t.prefix}…\` made by <@${t.createdBy}> on ${DateTime.fromISO(t.createdAt, { zone: 'utc' }).toISODate()}`,
      );
      return ctx.respond({
        text: [
          `This workspace’s API tokens (${all.length}); only their first characters are kept in clear:`,
          ...lines,
          'Revoke one with `/donedone api-token revoke <prefix>`.',
        ].join('\n'),
      });
    }
    if (cmd.action === 'revoke') {
      if (!isTokenPrefix(cmd.prefix)) {
        return ctx.respond({
          text: `\`${cmd.prefix.replace(/`/g, "'").slice(0, 40)}\` is not a token prefix: a prefix is \`ddw_\` and six characters, as \`/donedone api-token list\` shows.\nExample: \`/donedone api-token revoke ddw_Ab3x9Q\``,
        });
      }
      const revoked = await tokens.revoke(ctx.team, cmd.prefix);
      return ctx.respond({
        text: revoked
          ? `Revoked the API token \`${cmd.prefix}…\`: it is refused from now on.`
          : `No API token of this workspace starts with \`${cmd.prefix}\`. \`/donedone api-token list\` shows them.`,
      });
    }
    const { token, info } = await tokens.create(ctx.team, ctx.userId);
    return ctx.respond({
      text: [
        'A new API token for this workspace. It is shown only this once: copy it now.',
        `\`${token}\``,
        'Send it as `Authorization: Bearer <token>` to `/api/features`, `/api/features/F-3/gate` and `/api/canary`; it sees only this workspace’s features.',
        `\`/donedone api-token list\` lists the tokens; \`/donedone api-token revoke ${info.prefix}\` revokes this one.`,
      ].join('\n'),
    });
  };
}

/**
 * `/donedone forget-workspace [confirm]` (admins): deletes everything donedone keeps about this
 * workspace at once, instead of DONEDONE_RETENTION_DAYS after an uninstall. Asks first.
 */
export function forgetWorkspaceHandler(deps: {
  lifecycle: WorkspaceLifecycle;
  access: Pick<AccessService, 'isAdmin'>;
  featureCount: (team: string) => Promise<number>;
  retentionDays: number;
}): SubcommandHandler {
  return async (cmd: Command, ctx) => {
    if (cmd.name !== 'forget-workspace') return;
    if (!(await deps.access.isAdmin(ctx.team, ctx.userId))) {
      return ctx.respond({
        text: `Only ${ADMINS_ONLY} can make donedone forget this workspace. Nothing was deleted.`,
      });
    }
    const features = await deps.featureCount(ctx.team);
    if (!cmd.confirm) {
      return ctx.respond({
        text: [
          `:warning: This deletes everything donedone keeps about this workspace, at once and for good: its ${features} feature${features === 1 ? '' : 's'} with their checks, guardrails, notes, change history and retros, its digest schedules and its API tokens.`,
          `(Without it, an uninstalled workspace’s features are kept ${deps.retentionDays} days, then deleted.)`,
          'Slack’s installation is not touched: remove donedone from Slack afterwards, which deletes its tokens.',
          'To go on: `/donedone forget-workspace confirm`',
        ].join('\n'),
      });
    }
    const done = await deps.lifecycle.forget(ctx.team);
    return ctx.respond({
      text: `Done: deleted ${features} feature${features === 1 ? '' : 's'} and everything about them (${done.keys} records), stopped ${done.schedulers} schedule${done.schedulers === 1 ? '' : 's'} and revoked ${done.apiTokens} API token${done.apiTokens === 1 ? '' : 's'}. Remove donedone from Slack now (Apps → donedone → Remove) to delete its tokens too.`,
    });
  };
}
