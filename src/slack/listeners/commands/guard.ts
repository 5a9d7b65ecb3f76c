import type { DateTime } from 'luxon';
import { isGuarded } from '../../../domain/guard';
import type { Command } from '../../../domain/parse-command';
import { parseGuard } from '../../../domain/parse-guard';
import type { GuardService } from '../../../usecases/guard-service';
import { escapeMrkdwn } from '../../blocks/escape';
import { guardsLine } from '../../blocks/guard-blocks';
import type { CommandContext } from '../deps';

export interface GuardHandlerDeps {
  guards: GuardService;
  isCatalogName: (name: string) => boolean;
  now: () => DateTime;
  zone: string;
}

const EXAMPLE = '/donedone guard F-3 checkout_error_ratio < 2% over 3h auto-pause';

/**
 * `/donedone guard F-3 <metric> <op> <number> [over <duration>] [auto-pause]` adds a guardrail;
 * `/donedone guard F-3` lists them with their state. Answered only to the asker.
 */
export function guardHandler(deps: GuardHandlerDeps) {
  return async (cmd: Command, ctx: CommandContext): Promise<void> => {
    if (cmd.name !== 'guard') return;
    const example = EXAMPLE.replace('F-3', cmd.id);
    if (!cmd.spec.trim()) return list(cmd.id, ctx, deps);
    const parsed = parseGuard(cmd.spec.replace(/^guard\s+/i, ''), {
      isCatalogName: deps.isCatalogName,
      allowAutoPause: true,
      example,
    });
    if (!parsed.ok) return ctx.respond({ text: escapeMrkdwn(parsed.error) });
    const added = await deps.guards.add(ctx.team, cmd.id, parsed.value, ctx.userId);
    if (!added.ok) return ctx.respond({ text: added.error });
    const feature = added.value;
    const when = isGuarded(feature, deps.now(), deps.zone)
      ? 'It is evaluated every round from now until the deadline.'
      : !feature.expectation
        ? `It is evaluated from launch to the deadline, once ${feature.id} has an expectation.`
        : feature.launchedAt
          ? 'The deadline has passed, so it is not evaluated.'
          : 'It is evaluated every round from launch to the deadline.';
    const pause = parsed.value.autoPause
      ? ` At the second breach in a row the flag${feature.flag ? ` \`${escapeMrkdwn(feature.flag.key)}\`` : ''} is turned off without asking.`
      : '';
    return ctx.respond({
      text: `Guardrail added to *${feature.id}*: \`${escapeMrkdwn(parsed.value.text)}\`. ${when}${pause}`,
    });
  };
}

async function list(id: string, ctx: CommandContext, deps: GuardHandlerDeps): Promise<void> {
  const feature = await deps.guards.feature(ctx.team, id);
  if (!feature) return ctx.respond({ text: `There is no feature ${id} in this workspace.` });
  const states = await deps.guards.statesOf(feature);
  const line = guardsLine(
    states.map((s) => s.guard),
    states.filter((s) => s.state?.status === 'breached').map((s) => s.guard.text),
  );
  return ctx.respond({
    text: line
      ? `${line.replace('*Guardrails*', `*${feature.id}'s guardrails*`)}`
      : `${feature.id} has no guardrails yet. Add one: \`${EXAMPLE.replace('F-3', feature.id)}\``,
  });
}
