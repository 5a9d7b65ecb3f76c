import type { App, MessageShortcut } from '@slack/bolt';
import { decodeSlackEntities } from '../../../domain/mentions';
import { proposeModal } from '../../blocks/modal-blocks';
import type { ListenerDeps } from '../deps';

/** "Track as feature" on any message: the proposal modal, prefilled; the card goes in that message's thread. */
export function register(app: App, _deps: ListenerDeps): void {
  app.shortcut<MessageShortcut>('track_as_feature', async ({ ack, shortcut, client }) => {
    await ack();
    const message = shortcut.message;
    const title = decodeSlackEntities(message.text ?? '')
      .split('\n')[0]!
      .trim();
    await client.views.open({
      trigger_id: shortcut.trigger_id,
      view: proposeModal(
        { channel: shortcut.channel.id, threadTs: (message.thread_ts as string | undefined) ?? message.ts },
        { title, ownerId: shortcut.user.id },
      ),
    });
  });
}
