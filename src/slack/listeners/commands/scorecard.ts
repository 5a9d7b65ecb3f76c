import type { Command } from '../../../domain/parse-command';
import { scorecard } from '../../../domain/scorecard';
import type { FeatureStore } from '../../../store/feature-store';
import type { CommandGuard } from '../../../usecases/command-guard';
import { scorecardBlocks } from '../../blocks/scorecard-blocks';
import type { CommandContext, SubcommandHandler } from '../deps';

/** `/donedone scorecard [@user]`: how each owner's expectations turned out, and the team's totals. */
export function scorecardHandler(deps: {
  store: FeatureStore;
  guard?: { visible: CommandGuard['visible'] };
}): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'scorecard') return;
    const all = await deps.store.list(ctx.team);
    // Private features count only for those who may see them.
    const card = scorecard(deps.guard ? await deps.guard.visible(ctx.team, ctx.userId, all) : all);
    const message = scorecardBlocks({ card, ...(cmd.user ? { ownerId: cmd.user } : {}) });
    return ctx.respond({ text: message.text, blocks: message.blocks });
  };
}
