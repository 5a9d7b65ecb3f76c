import { DateTime } from 'luxon';
import type { Command } from '../../../domain/parse-command';
import { isDecidedForGood } from '../../../domain/stale-flags';
import type { FeatureStore } from '../../../store/feature-store';
import type { FeatureService } from '../../../usecases/feature-service';
import { escapeMrkdwn } from '../../blocks/escape';
import type { CommandContext, SubcommandHandler } from '../deps';

/**
 * `/donedone flag F-3 <key> [since YYYY-MM-DD]`: links a feature flag, so the digest and the owner's DM ask
 * for its removal once it is older than DONEDONE_STALE_FLAG_DAYS, or at once when the feature is decided.
 */
export function flagHandler(deps: {
  service: FeatureService;
  store: FeatureStore;
  now: () => DateTime;
  staleFlagDays: number;
}): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'flag') return;
    const since = cmd.since ?? deps.now().toUTC().toISODate()!;
    const updated = await deps.store.update(ctx.team, cmd.id, (f) => ({
      ...f,
      flag: { key: cmd.key, since },
    }));
    if (!updated) {
      const found = await deps.service.get(ctx.team, cmd.id);
      return ctx.respond({ text: found.ok ? `Could not link the flag to ${cmd.id}.` : found.error });
    }
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
