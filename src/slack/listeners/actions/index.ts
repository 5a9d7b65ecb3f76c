import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { answerModal } from '../../blocks/modal-blocks';
import { type CommandRunner, ephemeral } from '../commands/donedone-command';
import type { ListenerDeps } from '../deps';
import { changeRefusal } from './change-refusal';

/** Card buttons: answer the question (or change the expectation), mark launched, check now. */
export function register(app: App, deps: ListenerDeps, run: CommandRunner): void {
  app.action<BlockAction<ButtonAction>>('answer_question', async ({ ack, body, client, respond }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id ?? '';
    const feature = await deps.service.find(team, body.actions[0]!.value ?? '');
    const refusal =
      feature && deps.access ? await changeRefusal(deps.access, team, body.user.id, feature) : null;
    if (refusal) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: refusal });
      return;
    }
    if (!feature) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'That feature no longer exists.',
      });
      return;
    }
    await client.views.open({
      trigger_id: body.trigger_id,
      view: answerModal(
        { channel: feature.channel ?? body.channel?.id ?? '', featureId: feature.id },
        feature.title,
        { ...(feature.expectation ?? {}), ownerId: feature.ownerId },
      ),
    });
  });

  // "Mark launched" and "Check now" do what `/donedone launch F-3` and `/donedone check F-3` do,
  // the same way, answered ephemerally through the message's response_url.
  for (const [actionId, verb] of [
    ['mark_launched', 'launch'],
    ['check_now', 'check'],
  ] as const) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, client, respond }) => {
      await ack();
      // Card buttons sit on channel messages, which always come with a response_url.
      if (!body.response_url) {
        deps.log.warn({ action: actionId }, 'card button without a response_url');
        return;
      }
      await run({
        team: body.team?.id ?? body.user.team_id ?? '',
        channel: body.channel?.id ?? '',
        userId: body.user.id,
        triggerId: body.trigger_id,
        text: `${verb} ${body.actions[0]?.value ?? ''}`,
        respond: ephemeral(respond),
        client,
        receivedAt: Date.now(),
      });
    });
  }
}
