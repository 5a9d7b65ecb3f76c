import type { DateTime } from 'luxon';
import type { Command } from '../../../domain/parse-command';
import { linkFor } from '../../../usecases/digest-service';
import type { FeatureService } from '../../../usecases/feature-service';
import type { UsageService } from '../../../usecases/usage-service';
import { usageBlocks } from '../../blocks/usage-blocks';
import type { CommandContext, SubcommandHandler } from '../deps';

/** `/donedone usage F-3`: the months used in the last 12, as a strip and in words. */
export function usageHandler(deps: {
  service: FeatureService;
  usage: UsageService;
  now: () => DateTime;
}): SubcommandHandler {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'usage') return;
    const found = await deps.service.get(ctx.team, cmd.id);
    if (!found.ok) return ctx.respond({ text: found.error });
    const result = await deps.usage.monthsUsedFor(found.value, deps.now());
    if (!result.ok) return ctx.respond({ text: result.error });
    const message = usageBlocks({ feature: found.value, usage: result.value, linkFor });
    return ctx.respond({ text: message.text, blocks: message.blocks });
  };
}
