import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { HOME_OPEN_ACTION, HOME_PROPOSE_ACTION } from '../../blocks/home-blocks';
import { proposeModal } from '../../blocks/modal-blocks';
import { showMessage } from '../../blocks/show-blocks';
import type { ListenerDeps } from '../deps';
import type { HomeMetadata } from '../events/home';

/** Slack's limit for a modal. */
const MAX_MODAL_BLOCKS = 100;

/**
 * The Home tab's buttons. "Propose a feature" opens the proposal modal; its card is posted in the App's DM with
 * the viewer (the Home tab has no channel, and a modal cannot ask for one without more scopes), from where it can
 * be shared. "Open" shows everything about a feature in a modal, as `/donedone show` does.
 */
export function register(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(HOME_PROPOSE_ACTION, async ({ ack, body, client }) => {
    await ack();
    let metadata: HomeMetadata = {};
    try {
      metadata = JSON.parse(body.view?.private_metadata || '{}') as HomeMetadata;
    } catch {
      metadata = {};
    }
    // Posting to a user id lands in the App's DM with them, when the DM channel is not known.
    const channel = metadata.channel ?? body.user.id;
    await client.views.open({
      trigger_id: body.trigger_id,
      view: proposeModal({ channel }, { ownerId: body.user.id }),
    });
  });

  app.action<BlockAction<ButtonAction>>(HOME_OPEN_ACTION, async ({ ack, body, client }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id ?? '';
    const id = body.actions[0]?.value ?? '';
    const found = await deps.service.details(team, id);
    // A feature the viewer may not see opens as one that does not exist.
    const details =
      found.ok && (!deps.access || (await deps.access.canSee(team, body.user.id, found.value.feature)))
        ? found.value
        : null;
    const feature = details?.feature ?? null;
    const blocks: KnownBlock[] = details
      ? showMessage(details.feature, details.checks, details.notes, deps.now()).blocks
      : [{ type: 'section', text: { type: 'mrkdwn', text: `There is no feature ${id} any more.` } }];
    await client.views.open({
      trigger_id: body.trigger_id,
      view: {
        type: 'modal',
        title: { type: 'plain_text', text: feature ? feature.id : 'donedone' },
        close: { type: 'plain_text', text: 'Close' },
        blocks: blocks.slice(0, MAX_MODAL_BLOCKS),
      },
    });
  });
}
