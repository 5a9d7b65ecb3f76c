import type { App } from '@slack/bolt';
import { isStoreError } from '../../../store/redis-connection';
import { actingAs } from '../../../usecases/actor';
import { escapeMrkdwn } from '../../blocks/escape';
import type { ModalContext } from '../../blocks/modal-blocks';
import { changeRefusal } from '../actions/change-refusal';
import { suggestionsFor } from '../commands/suggest';
import type { ListenerDeps } from '../deps';
import { field } from './read-expectation';
import { readAnswer, readProposal, type Values } from './validate';

/**
 * Modal submissions. A field the bot cannot use is refused inline (`response_action: errors`)
 * in the acknowledgement, so the user fixes it in place and nothing half-done is stored.
 */
export function register(app: App, deps: ListenerDeps): void {
  app.view('propose_modal', async ({ ack, view, body, client }) => {
    const values = view.state.values as Values;
    const { title, expectation, errors } = readProposal(values, deps.telemetry);
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    const ctx = JSON.parse(view.private_metadata || '{}') as ModalContext;
    const team = body.team?.id ?? body.user.team_id ?? '';
    // A replayed submission (the same signed body again) proposes nothing a second time.
    if (deps.guard && !(await deps.guard.fresh(team, `view:${view.id}:${view.hash}`))) return;
    const hypothesis = field(values, 'hypothesis');
    const owner = field(values, 'owner');
    try {
      const result = await actingAs(body.user.id, () =>
        deps.service.propose({
          team,
          channel: ctx.channel,
          userId: body.user.id,
          title,
          ...(hypothesis ? { hypothesis } : {}),
          ...(expectation ? { expectation } : {}),
          ...(owner ? { ownerId: owner } : {}),
          ...(ctx.threadTs ? { threadTs: ctx.threadTs } : {}),
        }),
      );
      if (result.ok && result.note) {
        await client.chat.postEphemeral({ channel: ctx.channel, user: body.user.id, text: result.note });
      }
      // Proposed without an expectation: metrics that may tell, to the proposer only.
      const offer =
        result.ok && !result.value.expectation
          ? await suggestionsFor(deps, team, result.value).catch(() => null)
          : null;
      if (offer) {
        await client.chat
          .postEphemeral({ channel: ctx.channel, user: body.user.id, text: offer.text, blocks: offer.blocks })
          .catch((err) => deps.log.warn({ err }, 'suggestions not shown'));
      }
    } catch (err) {
      deps.log.error({ err }, 'proposal from modal failed');
      const text = isStoreError(err)
        ? `:warning: I could not reach my database, so “${escapeMrkdwn(title)}” was not saved. Propose it again in a minute.`
        : `:warning: I could not post the card for “${escapeMrkdwn(title)}” in <#${ctx.channel}>. Invite me there (\`/invite @donedone\`) and propose again.`;
      await client.chat.postMessage({ channel: body.user.id, text }).catch(() => undefined);
    }
  });

  app.view('answer_modal', async ({ ack, view, body, client }) => {
    const values = view.state.values as Values;
    const { expectation, errors } = readAnswer(values, deps.telemetry);
    if (!expectation || Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    const ctx = JSON.parse(view.private_metadata || '{}') as ModalContext;
    const team = body.team?.id ?? body.user.team_id ?? '';
    const owner = field(values, 'owner');
    if (deps.guard && !(await deps.guard.fresh(team, `view:${view.id}:${view.hash}`))) return;
    // The form changes the expectation and maybe the owner: only for those who may change the feature.
    const feature = await deps.service.find(team, ctx.featureId ?? '');
    const refusal =
      feature && deps.access ? await changeRefusal(deps.access, team, body.user.id, feature) : null;
    const result = refusal
      ? { ok: false as const, error: refusal }
      : await actingAs(body.user.id, () =>
          deps.service.expect(team, ctx.featureId ?? '', expectation, owner || undefined),
        );
    const text = result.ok ? (result.note ?? null) : result.error;
    if (text && ctx.channel) {
      await client.chat
        .postEphemeral({ channel: ctx.channel, user: body.user.id, text })
        .catch(() => undefined);
    }
  });
}
