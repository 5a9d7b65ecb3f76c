import type { Command } from '../../../domain/parse-command';
import type { FeatureService } from '../../../usecases/feature-service';
import type { CommandContext, SubcommandHandler } from '../deps';

/**
 * `/donedone owner F-3 @user`: hands F-3 over. Who may do it (its owner, its proposer, an admin) is
 * settled before this runs (CommandGuard); the change is recorded in F-3's history by the store.
 */
export function ownerHandler(deps: { service: FeatureService }): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'owner') return;
    const found = await deps.service.get(ctx.team, cmd.id);
    if (!found.ok) return ctx.respond({ text: found.error });
    if (found.value.ownerId === cmd.user)
      return ctx.respond({ text: `<@${cmd.user}> already owns ${cmd.id}; nothing changed.` });
    const handed = await deps.service.handOver(ctx.team, cmd.id, cmd.user);
    if (!handed.ok) return ctx.respond({ text: handed.error });
    return ctx.respond({
      text: `*${cmd.id}* now belongs to <@${cmd.user}> (it was <@${found.value.ownerId}>'s). \`/donedone show ${cmd.id}\` lists its history.`,
    });
  };
}
