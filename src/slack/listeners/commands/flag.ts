import { DateTime } from 'luxon';
import type { Command } from '../../../domain/parse-command';
import { isDecidedForGood } from '../../../domain/stale-flags';
import type { FeatureService } from '../../../usecases/feature-service';
import { escapeMrkdwn } from '../../blocks/escape';
import type { CommandContext, SubcommandHandler } from '../deps';

/**
 * `/donedone flag F-3 <key> [since YYYY-MM-DD]`: links a feature flag, so the digest and the owner's DM ask
 * for its removal once it is older than DONEDONE_STALE_FLAG_DAYS, or at once when the feature is decided.
 */
export function flagHandler(deps: {
  service: FeatureService;
  now: () => DateTime;
  staleFlagDays: number;
}): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'flag') return;
    const since = cmd.since ?? deps.now().toUTC().toISODate()!;
    const linked = await deps.service.linkFlag(ctx.team, cmd.id, cmd.key, since);
    if (!linked.ok) return ctx.respond({ text: linked.error });
    const updated = linked.value;
    const key = `\`${escapeMrkdwn(cmd.key)}\``;
    if (isDecidedForGood(updated)) {
      return ctx.respond({
        text: `Linked flag ${key} to *${cmd.id}*. ${cmd.id} is decided (${updated.decision!.value}), so the flag is stale already: remove it from the code and the flag service.`,
      });
    }
    // Stale once older than staleFlagDays whole days (stale-flags.ts), i.e. from since + days + 1.
    const dueDate = DateTime.fromISO(since, { zone: 'utc' })
      .plus({ days: deps.staleFlagDays + 1 })
      .toISODate();
    if (dueDate! <= deps.now().toUTC().toISODate()!) {
      return ctx.respond({
        text: `Linked flag ${key} to *${cmd.id}* since ${since}. It is older than ${deps.staleFlagDays} days, so it is stale already: the digest and its owner's DM ask for its removal.`,
      });
    }
    return ctx.respond({
      text: `Linked flag ${key} to *${cmd.id}* since ${since}. The digest and its owner's DM will ask for its removal from ${dueDate} (after ${deps.staleFlagDays} days), or as soon as ${cmd.id} is decided.`,
    });
  };
}
