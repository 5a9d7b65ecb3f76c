import type { Command } from '../../../domain/parse-command';
import type { RetroService } from '../../../usecases/retro-service';
import type { CommandContext } from '../deps';

/** `/donedone retro F-3`: open F-3's retrospective now (or point at the open one). */
export function retroHandler(retro: RetroService) {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'retro') return;
    const result = await retro.requestFromCommand(ctx.team, cmd.id);
    await ctx.respond({ text: result.ok ? result.value : result.error });
  };
}
