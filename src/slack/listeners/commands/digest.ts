import type { Command } from '../../../domain/parse-command';
import type { DigestService } from '../../../usecases/digest-service';
import type { SlackPort } from '../../port';
import type { CommandContext, SubcommandHandler } from '../deps';

/** The asker's Slack time zone (users.info), else the configured default: where "09:00" is meant. */
async function zoneOf(slack: SlackPort, team: string, userId: string, fallback: string): Promise<string> {
  try {
    return (await slack.timezoneOf(team, userId)) || fallback;
  } catch {
    return fallback;
  }
}

function when(next: import('luxon').DateTime | undefined): string {
  return next
    ? ` Next: ${next.setLocale('en').toFormat("ccc d LLL yyyy 'at' HH:mm")} (${next.zoneName}).`
    : '';
}

/**
 * `/donedone digest` (post it now), `digest every <weekday|day> HH:MM [Area/City]`, `digest off`,
 * `digest schedule`.
 */
export function digestHandler(deps: {
  digests: DigestService;
  slack: SlackPort;
  defaultZone: string;
}): SubcommandHandler {
  const { digests } = deps;
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'digest') return;
    switch (cmd.action) {
      case 'now':
        await digests.postNow(ctx.team, ctx.channel);
        return ctx.respond({ text: 'Posting the digest in this channel now.' });
      case 'every': {
        const zone = await zoneOf(deps.slack, ctx.team, ctx.userId, deps.defaultZone);
        const result = await digests.schedule(ctx.team, ctx.channel, cmd.spec, {
          userId: ctx.userId,
          defaultZone: zone,
        });
        if (!result.ok) return ctx.respond({ text: result.error });
        return ctx.respond({
          text: `This channel's digest is scheduled ${result.value.description}.${when(result.value.next)} Stop it with \`/donedone digest off\`.`,
        });
      }
      case 'off': {
        const removed = await digests.unschedule(ctx.team, ctx.channel);
        return ctx.respond({
          text: removed
            ? "This channel's digest is off. Start it again with `/donedone digest every monday 09:00`."
            : 'This channel has no digest scheduled. Schedule one: `/donedone digest every monday 09:00 Europe/Berlin`',
        });
      }
      case 'schedule': {
        const current = await digests.current(ctx.team, ctx.channel);
        return ctx.respond({
          text: current
            ? `This channel's digest is posted ${current.description}.${when(current.next)} Change it with \`/donedone digest every …\`, stop it with \`/donedone digest off\`.`
            : 'This channel has no digest scheduled. Schedule one: `/donedone digest every monday 09:00 Europe/Berlin`',
        });
      }
    }
  };
}
