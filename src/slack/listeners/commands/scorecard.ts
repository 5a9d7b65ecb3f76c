import { describeCalibration } from '../../../domain/calibration';
import type { Command } from '../../../domain/parse-command';
import { scorecard } from '../../../domain/scorecard';
import type { CommandGuard } from '../../../usecases/command-guard';
import type { FeatureService } from '../../../usecases/feature-service';
import type { LearningService } from '../../../usecases/learning-service';
import { scorecardBlocks } from '../../blocks/scorecard-blocks';
import type { CommandContext, SubcommandHandler } from '../deps';

/** `/donedone scorecard [@user]`: how each owner's expectations turned out, and the team's totals. */
export function scorecardHandler(deps: {
  service: FeatureService;
  learning?: LearningService;
  guard?: { visible: CommandGuard['visible'] };
}): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'scorecard') return;
    const all = await deps.service.list(ctx.team, { kind: 'all' });
    // Private features count only for those who may see them.
    const features = deps.guard ? await deps.guard.visible(ctx.team, ctx.userId, all) : all;
    const card = scorecard(features);
    let calibration: { team: string | null; owners: Map<string, string> } | undefined;
    if (deps.learning) {
      const c = await deps.learning.teamCalibration(features);
      const owners = new Map<string, string>();
      for (const [owner, cal] of c.owners) {
        const words = describeCalibration(cal);
        if (words) owners.set(owner, words);
      }
      calibration = { team: describeCalibration(c.team), owners };
    }
    const message = scorecardBlocks({
      card,
      ...(cmd.user ? { ownerId: cmd.user } : {}),
      ...(calibration ? { calibration } : {}),
    });
    return ctx.respond({ text: message.text, blocks: message.blocks });
  };
}
