import type { Command } from '../../../domain/parse-command';
import type { WatchService } from '../../../usecases/watch-service';
import type { CommandContext } from '../deps';

/** `/donedone launch F-3 [YYYY-MM-DD]`. */
export function launchHandler(watch: WatchService) {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'launch') return;
    const result = await watch.launch(ctx.team, cmd.id, cmd.date);
    if (!result.ok) return ctx.respond({ text: result.error });
    const { feature, changed } = result.value;
    const day = feature.launchedAt!.slice(0, 10);
    if (!changed)
      return ctx.respond({ text: `${feature.id} was already launched on ${day}; nothing changed.` });
    return ctx.respond({
      text: feature.expectation
        ? `Launched *${feature.id}* on ${day}. Checks that were already due run now; the rest are scheduled.`
        : `Launched *${feature.id}* on ${day}. It has no expectation, so nothing will be checked until it gets one.`,
    });
  };
}
