import type { Command } from '../../../domain/parse-command';
import { scorecard } from '../../../domain/scorecard';
import type { FeatureStore } from '../../../store/feature-store';
import { scorecardBlocks } from '../../blocks/scorecard-blocks';
import type { CommandContext, SubcommandHandler } from '../deps';

/** `/donedone scorecard [@user]`: how each owner's expectations turned out, and the team's totals. */
export function scorecardHandler(deps: { store: FeatureStore }): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'scorecard') return;
    const card = scorecard(await deps.store.list(ctx.team));
    const message = scorecardBlocks({ card, ...(cmd.user ? { ownerId: cmd.user } : {}) });
    return ctx.respond({ text: message.text, blocks: message.blocks });
  };
}
