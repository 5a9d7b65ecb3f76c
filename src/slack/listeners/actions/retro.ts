import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Decision } from '../../../domain/model';
import type { AccessService } from '../../../usecases/access';
import { actingAs } from '../../../usecases/actor';
import type { FeatureService } from '../../../usecases/feature-service';
import type { RetroService } from '../../../usecases/retro-service';
import { answerModal } from '../../blocks/modal-blocks';
import { RETRO_ACTIONS } from '../../blocks/retro-blocks';

export interface RetroListenerDeps {
  retro: RetroService;
  log: Logger;
  /** Iterate, and changing a decision already taken, are for the owner, the proposer and admins. */
  access?: AccessService;
  features?: FeatureService;
}

/**
 * Keep, Iterate and Remove on a retro message. The click is acknowledged first; the decision is
 * stored, the message updated, and Iterate opens the expectation form for the new cycle.
 */
export function register(app: App, deps: RetroListenerDeps): void {
  for (const value of Object.keys(RETRO_ACTIONS) as Decision[]) {
    app.action<BlockAction<ButtonAction>>(RETRO_ACTIONS[value], async ({ ack, body, client, respond }) => {
      await ack();
      const team = body.team?.id ?? body.user.team_id ?? '';
      const id = body.actions[0]?.value ?? '';
      const ts = body.message?.ts ?? body.container?.message_ts ?? '';
      const current = deps.features ? await deps.features.find(team, id) : null;
      let allowed: boolean | undefined;
      if (current && deps.access && (value === 'iterate' || current.decision)) {
        allowed = await deps.access.canChange(team, body.user.id, current);
        if (!allowed) {
          const text = deps.access.whoCan(current);
          await respond({ response_type: 'ephemeral', replace_original: false, text });
          return;
        }
      }
      const result = await actingAs(body.user.id, () =>
        deps.retro.decide(team, id, value, body.user.id, ts, allowed),
      );
      if (!result.ok) {
        await respond({ response_type: 'ephemeral', replace_original: false, text: result.error });
        return;
      }
      const { feature, unchanged } = result.value;
      if (unchanged) {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: `${feature.id} is already decided: ${value}.`,
        });
        return;
      }
      if (value !== 'iterate' || !feature.expectation) return;
      await client.views
        .open({
          trigger_id: body.trigger_id,
          view: answerModal(
            { channel: feature.channel ?? body.channel?.id ?? '', featureId: feature.id },
            feature.title,
            { ...feature.expectation, ownerId: feature.ownerId },
          ),
        })
        .catch(async (err) => {
          deps.log.warn({ feature: feature.id, err }, 'could not open the iterate form');
          await respond({
            response_type: 'ephemeral',
            replace_original: false,
            text: `${feature.id} starts a new cycle. Record its new expectation: \`/donedone expect ${feature.id} ${feature.expectation?.text ?? '<expectation>'}\``,
          });
        });
    });
  }
}
