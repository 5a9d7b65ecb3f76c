import type { Feature } from '../../../domain/model';
import type { Command } from '../../../domain/parse-command';
import type { FeatureService } from '../../../usecases/feature-service';
import type { LearningService } from '../../../usecases/learning-service';
import type { Message } from '../../blocks/card-blocks';
import { suggestMessage } from '../../blocks/suggest-blocks';
import type { CommandContext, ListenerDeps, SubcommandHandler } from '../deps';

/** The suggestions for a just proposed feature, or null when learning is not wired in. */
export async function suggestionsFor(
  deps: Pick<ListenerDeps, 'learning'>,
  team: string,
  feature: Feature,
): Promise<Message | null> {
  if (!deps.learning) return null;
  // Answered to the proposer: past features they may not see are left out.
  return suggestMessage(await deps.learning.suggest(team, feature.title, feature.id, feature.proposedBy));
}

/** An answer that starts with `intro` and goes on with a message's blocks. */
export function withIntro(intro: string, message: Message): Message {
  return {
    text: `${intro}\n${message.text}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: intro } }, ...message.blocks],
  };
}

/** `/donedone suggest F-3`: up to three metrics that may tell whether F-3 works, only to the asker. */
export function suggestHandler(deps: {
  service: FeatureService;
  learning: LearningService;
}): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'suggest') return;
    const found = await deps.service.get(ctx.team, cmd.id);
    if (!found.ok) return ctx.respond({ text: found.error });
    const feature = found.value;
    const message = suggestMessage(
      await deps.learning.suggest(ctx.team, feature.title, feature.id, ctx.userId),
    );
    return ctx.respond({ text: message.text, blocks: message.blocks });
  };
}
