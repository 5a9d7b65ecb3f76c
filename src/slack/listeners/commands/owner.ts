import type { Command } from '../../../domain/parse-command';
import type { FeatureStore } from '../../../store/feature-store';
import type { FeatureService } from '../../../usecases/feature-service';
import type { CommandContext, SubcommandHandler } from '../deps';

/**
 * `/donedone owner F-3 @user`: hands F-3 over. Who may do it (its owner, its proposer, an admin) is
 * settled before this runs (CommandGuard); the change is recorded in F-3's history by the store.
 */
export function ownerHandler(deps: { service: FeatureService; store: FeatureStore }): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'owner') return;
    const found = await deps.service.get(ctx.team, cmd.id);
    if (!found.ok) return ctx.respond({ text: found.error });
    if (found.value.ownerId === cmd.user)
      return ctx.respond({ text: `<@${cmd.user}> already owns ${cmd.id}; nothing changed.` });
    const updated = await deps.store.update(ctx.team, cmd.id, (f) => ({ ...f, ownerId: cmd.user }));
    if (!updated) return ctx.respond({ text: `There is no feature ${cmd.id} in this workspace.` });
    await deps.service.updateCard(updated);
    return ctx.respond({
      text: `*${cmd.id}* now belongs to <@${cmd.user}> (it was <@${found.value.ownerId}>'s). \`/donedone show ${cmd.id}\` lists its history.`,
    });
  };
}
