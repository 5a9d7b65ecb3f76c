import type { DateTime } from 'luxon';
import { formatNumber } from '../../../domain/format-number';
import type { Feature } from '../../../domain/model';
import type { Command } from '../../../domain/parse-command';
import type { CommandGuard } from '../../../usecases/command-guard';
import type { FeatureService } from '../../../usecases/feature-service';
import type { LearningService } from '../../../usecases/learning-service';
import { escapeMrkdwn } from '../../blocks/escape';
import { historyBlocks } from '../../blocks/history-blocks';
import { proposeModal } from '../../blocks/modal-blocks';
import { listMessage, showMessage } from '../../blocks/show-blocks';
import type { CommandContext, SubcommandHandler } from '../deps';
import { suggestionsFor, withIntro } from './suggest';

export interface ProposalHandlerDeps {
  service: FeatureService;
  now: () => DateTime;
  /** Ends a dropped feature's scheduled work (launch and watch). */
  stop: (feature: Feature) => Promise<void>;
  learning?: LearningService;
  guard?: Pick<CommandGuard, 'visible'>;
}

/** The command named `N` (several names may share one shape: `check`, `show`…). */
type Named<N extends Command['name']> = Command & { name: N };
type Handler<N extends Command['name']> = (cmd: Named<N>, ctx: CommandContext) => Promise<void>;

/** A handler for one subcommand: other commands pass through untouched. */
function only<N extends Command['name']>(name: N, handler: Handler<N>): SubcommandHandler {
  return async (cmd, ctx) => {
    if (cmd.name === name) await handler(cmd as Named<N>, ctx);
  };
}

/** `propose`, `expect`, `check`, `show`, `list` and `drop`: proposals and their expectations. */
export function proposalHandlers(deps: ProposalHandlerDeps) {
  const { service } = deps;
  return {
    propose: only('propose', async (cmd, ctx) => {
      if (!cmd.title) {
        // `/donedone propose` alone opens the form.
        await ctx.client?.views.open({
          trigger_id: ctx.triggerId,
          view: proposeModal({ channel: ctx.channel }, { ownerId: ctx.userId }),
        });
        return;
      }
      const expectation = ctx.expectation;
      const result = await service.propose({
        team: ctx.team,
        channel: ctx.channel,
        userId: ctx.userId,
        title: cmd.title,
        ...(expectation ? { expectation } : {}),
      });
      if (!result.ok) return ctx.respond({ text: result.error });
      const f = result.value;
      const base = `Proposed *${f.id}* · ${escapeMrkdwn(f.title)}.`;
      // Without an expectation, the proposer (only) is offered metrics that may tell.
      const offer = f.expectation ? null : await suggestionsFor(deps, ctx.team, f).catch(() => null);
      if (offer)
        return ctx.respond(
          withIntro(`${base} The card asks how we will know it works in production.`, offer),
        );
      return ctx.respond({
        text: result.note
          ? `${base}\n${result.note}`
          : f.expectation
            ? base
            : `${base} The card asks how we will know it works in production.`,
      });
    }),
    expect: only('expect', async (cmd, ctx) => {
      const expectation = ctx.expectation;
      if (!expectation) return ctx.respond({ text: `Say what to expect of ${cmd.id}.` });
      const result = await service.expect(ctx.team, cmd.id, expectation);
      if (!result.ok) return ctx.respond({ text: result.error });
      const base = `Recorded for *${cmd.id}*: \`${escapeMrkdwn(expectation.text)}\`.`;
      return ctx.respond({ text: result.note ? `${base}\n${result.note}` : base });
    }),
    check: only('check', async (cmd, ctx) => {
      const result = await service.check(ctx.team, cmd.id);
      if (!result.ok) return ctx.respond({ text: result.error });
      const c = result.value;
      return ctx.respond({
        text: `Checked *${cmd.id}*: ${c.verdict}${c.value === null ? '' : ` (${formatNumber(c.value)})`}. The result is in its thread.`,
      });
    }),
    show: only('show', async (cmd, ctx) => {
      const found = await service.details(ctx.team, cmd.id);
      if (!found.ok) return ctx.respond({ text: found.error });
      const { feature, checks, notes } = found.value;
      const message = showMessage(feature, checks, notes, deps.now());
      const history = historyBlocks(found.value.history);
      // Slack shows at most 50 blocks in a message: the history's summary goes before the limit.
      const blocks = [...message.blocks.slice(0, 50 - history.length), ...history];
      return ctx.respond({ text: message.text, blocks });
    }),
    list: only('list', async (cmd, ctx) => {
      let features: Feature[];
      let heading: string;
      if (cmd.scope === 'mine' || cmd.user) {
        const owner = cmd.scope === 'mine' ? ctx.userId : cmd.user!;
        features = await service.list(ctx.team, { kind: 'owner', owner });
        heading = cmd.scope === 'mine' ? 'Your features' : `Features owned by <@${owner}>`;
      } else if (cmd.scope === 'open') {
        features = await service.list(ctx.team, { kind: 'open' });
        heading = 'Open features';
      } else {
        features = await service.list(ctx.team, { kind: 'all' });
        heading = 'All features';
      }
      if (deps.guard) features = await deps.guard.visible(ctx.team, ctx.userId, features);
      const message = listMessage(features, heading, deps.now());
      return ctx.respond({ text: message.text, blocks: message.blocks });
    }),
    drop: only('drop', async (cmd, ctx) => {
      const dropped = await service.drop(ctx.team, cmd.id, cmd.reason, deps.stop);
      if (!dropped.ok) return ctx.respond({ text: dropped.error });
      return ctx.respond({ text: `Dropped *${cmd.id}*: it is off the board.` });
    }),
  };
}
