import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Logger } from 'pino';
import type { GuardService } from '../../../usecases/guard-service';
import { GUARD_ACTIONS, readGuardButtonValue } from '../../blocks/guard-blocks';

export interface GuardListenerDeps {
  guards: GuardService;
  log: Logger;
}

/**
 * **Pause rollout** and **Dismiss** on a breach message. Acknowledged first; the outcome (or why
 * nothing happened: not allowed, the flag tool refused) is told only to the person who pressed.
 */
export function register(app: App, deps: GuardListenerDeps): void {
  for (const [kind, actionId] of Object.entries(GUARD_ACTIONS) as [keyof typeof GUARD_ACTIONS, string][]) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, respond, client }) => {
      await ack();
      const team = body.team?.id ?? body.user.team_id ?? '';
      const parsed = readGuardButtonValue(body.actions[0]?.value ?? '');
      const answer = async (text: string): Promise<void> => {
        await respond({ response_type: 'ephemeral', replace_original: false, text }).catch((err) =>
          deps.log.warn({ err }, 'could not answer a guard button'),
        );
      };
      if (!parsed) {
        await answer('That button is from an older version of donedone; nothing changed.');
        return;
      }
      try {
        const result =
          kind === 'pause'
            ? await deps.guards.pause(team, parsed.featureId, parsed.guardKey, body.user.id)
            : await deps.guards.dismiss(
                team,
                parsed.featureId,
                parsed.guardKey,
                parsed.episode,
                body.user.id,
              );
        await answer(result.ok ? result.value : result.error);
        if (result.ok) {
          // The breach message loses its buttons and says who did what, so nobody presses twice.
          const message = body.message as
            | { ts?: string; text?: string; blocks?: { type: string }[] }
            | undefined;
          const channel = body.channel?.id ?? body.container?.channel_id;
          if (message?.ts && channel && message.blocks) {
            const done = kind === 'pause' ? 'paused the rollout' : 'dismissed this breach';
            await client.chat
              .update({
                channel,
                ts: message.ts,
                text: message.text ?? 'guardrail breached',
                blocks: [
                  ...message.blocks.filter((b) => b.type !== 'actions'),
                  { type: 'context', elements: [{ type: 'mrkdwn', text: `<@${body.user.id}> ${done}.` }] },
                ] as never,
              })
              .catch((err) => deps.log.warn({ err }, 'could not update the breach message'));
          }
        }
      } catch (err) {
        deps.log.error({ action: actionId, err }, 'guard button failed');
        await answer(
          ':warning: Something went wrong on my side; nothing was paused. Press again in a minute.',
        );
      }
    });
  }
}
