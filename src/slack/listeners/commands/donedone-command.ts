import type { App } from '@slack/bolt';
import { formatNumber } from '../../../domain/format-number';
import type { Feature } from '../../../domain/model';
import { type Command, parseCommand } from '../../../domain/parse-command';
import { escapeMrkdwn } from '../../blocks/escape';
import { proposeModal } from '../../blocks/modal-blocks';
import { HELP_TEXT, listMessage, showMessage } from '../../blocks/show-blocks';
import { slackErrorCode } from '../../poster';
import type { CommandContext, ListenerDeps } from '../deps';

/**
 * `/donedone`: grammar errors are answered in the acknowledgement itself (ephemeral, within
 * Slack's 3 s); everything that touches Redis, telemetry or the Web API runs after `ack()`.
 */
export function register(app: App, deps: ListenerDeps): void {
  app.command('/donedone', async ({ command, ack, respond, client }) => {
    const started = process.hrtime.bigint();
    const parsed = parseCommand(command.text ?? '');
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: parsed.error });
      deps.metrics.commands.inc({ command: 'invalid', outcome: 'refused' });
      return;
    }
    const cmd = parsed.command;
    if (cmd.name === 'help') {
      await ack({ response_type: 'ephemeral', text: HELP_TEXT });
      return;
    }
    // Expectations are grammar: refuse a bad one before acknowledging, so nothing changes.
    const expectationText = cmd.name === 'expect' || cmd.name === 'propose' ? cmd.expectation : undefined;
    const expectation = expectationText ? deps.service.parseExpectation(expectationText) : undefined;
    if (expectation && !expectation.ok) {
      await ack({ response_type: 'ephemeral', text: expectation.error });
      deps.metrics.commands.inc({ command: cmd.name, outcome: 'refused' });
      return;
    }
    await ack();
    deps.log.debug(
      { command: cmd.name, ackMs: Number(process.hrtime.bigint() - started) / 1e6 },
      'acknowledged',
    );

    const ctx: CommandContext = {
      team: command.team_id,
      channel: command.channel_id,
      userId: command.user_id,
      triggerId: command.trigger_id,
      respond: async (message) => {
        await respond({ response_type: 'ephemeral', replace_original: false, ...message } as never);
      },
    };
    try {
      if (cmd.name === 'propose' && !cmd.title) {
        await client.views.open({
          trigger_id: command.trigger_id,
          view: proposeModal({ channel: command.channel_id }, { ownerId: command.user_id }),
        });
        return;
      }
      await dispatch(cmd, ctx, deps, expectation?.ok ? expectation.value : undefined);
      deps.metrics.commands.inc({ command: cmd.name, outcome: 'ok' });
    } catch (err) {
      deps.metrics.commands.inc({ command: cmd.name, outcome: 'error' });
      deps.log.error({ command: cmd.name, err: (err as Error).message }, 'command failed');
      await ctx.respond({ text: friendlyError(err) }).catch(() => undefined);
    } finally {
      deps.metrics.commandSeconds.observe(
        { command: cmd.name },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  });
}

/** Words for a failure the user cannot fix by retyping. */
export function friendlyError(err: unknown): string {
  const code = slackErrorCode(err);
  if (code === 'not_in_channel' || code === 'channel_not_found') {
    return ':warning: I can’t post in this channel. Invite me with `/invite @donedone` and try again; nothing was lost.';
  }
  return ':warning: Something went wrong on my side; nothing you typed was lost. Try again in a minute.';
}

async function dispatch(
  cmd: Command,
  ctx: CommandContext,
  deps: ListenerDeps,
  expectation: import('../../../domain/model').Expectation | undefined,
): Promise<void> {
  const { service, store } = deps;
  switch (cmd.name) {
    case 'propose': {
      const result = await service.propose({
        team: ctx.team,
        channel: ctx.channel,
        userId: ctx.userId,
        title: cmd.title!,
        ...(expectation ? { expectation } : {}),
      });
      if (!result.ok) return ctx.respond({ text: result.error });
      const f = result.value;
      const base = `Proposed *${f.id}* · ${escapeMrkdwn(f.title)}.`;
      return ctx.respond({
        text: result.note
          ? `${base}\n${result.note}`
          : f.expectation
            ? base
            : `${base} The card asks how we will know it works in production.`,
      });
    }
    case 'expect': {
      const result = await service.expect(ctx.team, cmd.id, expectation!);
      if (!result.ok) return ctx.respond({ text: result.error });
      const base = `Recorded for *${cmd.id}*: \`${escapeMrkdwn(expectation!.text)}\`.`;
      return ctx.respond({ text: result.note ? `${base}\n${result.note}` : base });
    }
    case 'check': {
      const result = await service.check(ctx.team, cmd.id);
      if (!result.ok) return ctx.respond({ text: result.error });
      const c = result.value;
      return ctx.respond({
        text: `Checked *${cmd.id}*: ${c.verdict}${c.value === null ? '' : ` (${formatNumber(c.value)})`}. The result is in its thread.`,
      });
    }
    case 'show': {
      const found = await service.get(ctx.team, cmd.id);
      if (!found.ok) return ctx.respond({ text: found.error });
      const checks = await store.checks(ctx.team, cmd.id);
      const notes = await store.notes(ctx.team, cmd.id);
      const message = showMessage(found.value, checks, notes);
      return ctx.respond({ text: message.text, blocks: message.blocks });
    }
    case 'list': {
      let features: Feature[];
      let heading: string;
      if (cmd.scope === 'mine' || cmd.user) {
        const owner = cmd.scope === 'mine' ? ctx.userId : cmd.user!;
        features = await store.listByOwner(ctx.team, owner);
        heading = cmd.scope === 'mine' ? 'Your features' : `Features owned by <@${owner}>`;
      } else if (cmd.scope === 'open') {
        features = (await store.list(ctx.team)).filter(
          (f) => f.status !== 'dropped' && f.status !== 'decided',
        );
        heading = 'Open features';
      } else {
        features = await store.list(ctx.team);
        heading = 'All features';
      }
      const message = listMessage(features, heading);
      return ctx.respond({ text: message.text, blocks: message.blocks });
    }
    case 'drop': {
      const found = await service.get(ctx.team, cmd.id);
      if (!found.ok) return ctx.respond({ text: found.error });
      if (found.value.status === 'dropped')
        return ctx.respond({ text: `${cmd.id} is already off the board.` });
      const updated = await store.update(ctx.team, cmd.id, (f) => ({
        ...f,
        status: 'dropped',
        ...(cmd.reason ? { droppedReason: cmd.reason } : {}),
      }));
      if (updated) await service.updateCard(updated);
      return ctx.respond({ text: `Dropped *${cmd.id}*: it is off the board.` });
    }
    default: {
      const handler = deps.subcommands.get(cmd.name);
      if (handler) return handler(cmd, ctx);
      return ctx.respond({
        text: `\`${cmd.name}\` is not available in this version of donedone yet. \`/donedone help\` lists what is.`,
      });
    }
  }
}
