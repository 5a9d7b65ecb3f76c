import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { answerModal } from '../../blocks/modal-blocks';
import type { ListenerDeps } from '../deps';

/** Card buttons: answer the question (or change the expectation), check now. */
export function register(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>('answer_question', async ({ ack, body, client, respond }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id ?? '';
    const feature = await deps.store.get(team, body.actions[0]!.value ?? '');
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

  app.action<BlockAction<ButtonAction>>('mark_launched', async ({ ack, body, respond }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id ?? '';
    const result = await deps.watch.launch(team, body.actions[0]!.value ?? '');
    if (!result.ok)
      await respond({ response_type: 'ephemeral', replace_original: false, text: result.error });
  });

  app.action<BlockAction<ButtonAction>>('check_now', async ({ ack, body, respond }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id ?? '';
    const result = await deps.service.check(team, body.actions[0]!.value ?? '');
    if (!result.ok)
      await respond({ response_type: 'ephemeral', replace_original: false, text: result.error });
  });
}
