import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Expectation } from '../../../domain/model';
import { parseMetric } from '../../../domain/parse-expectation';
import { answerModal } from '../../blocks/modal-blocks';
import { SUGGEST_USE_ACTION, type SuggestUseValue } from '../../blocks/suggest-blocks';
import type { ListenerDeps } from '../deps';
import { changeRefusal } from './change-refusal';

/** Reads a suggestion button's value; null when it is not one (an old or forged payload). */
export function readSuggestUse(raw: string | undefined): SuggestUseValue | null {
  try {
    const v = JSON.parse(raw ?? '') as Partial<SuggestUseValue>;
    if (typeof v.f !== 'string' || typeof v.m !== 'string') return null;
    if (v.o !== undefined && !['>=', '>', '<=', '<'].includes(v.o)) return null;
    if (v.t !== undefined && (typeof v.t !== 'number' || !Number.isFinite(v.t))) return null;
    return { f: v.f, m: v.m, ...(v.o ? { o: v.o } : {}), ...(v.t !== undefined ? { t: v.t } : {}) };
  } catch {
    return null;
  }
}

/** "Use this" on a suggestion: opens the feature's expectation form with the metric and target filled in. */
export function register(
  app: App,
  deps: Pick<ListenerDeps, 'service' | 'telemetry' | 'log' | 'access'>,
): void {
  app.action<BlockAction<ButtonAction>>(SUGGEST_USE_ACTION, async ({ ack, body, client, respond }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id ?? '';
    const value = readSuggestUse(body.actions[0]?.value);
    const feature = value ? await deps.service.find(team, value.f) : null;
    const metric = value ? parseMetric(value.m, deps.telemetry.isCatalogName) : null;
    if (!value || !feature || !metric?.ok) {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'That suggestion no longer applies. Ask again: `/donedone suggest F-3`',
      });
      return;
    }
    // The form changes the feature (and shows its title): for those who may change it.
    const refusal = deps.access ? await changeRefusal(deps.access, team, body.user.id, feature) : null;
    if (refusal) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: refusal });
      return;
    }
    // A suggested target is a plain weekly number; the deadline of an existing expectation is kept.
    const current: Partial<Expectation> & { ownerId: string } = {
      metric: metric.value.metric,
      op: value.o ?? '>=',
      ...(value.t !== undefined ? { target: value.t } : {}),
      window: 'week',
      deadlineDays: feature.expectation?.deadlineDays ?? 30,
      ownerId: feature.ownerId,
    };
    await client.views.open({
      trigger_id: body.trigger_id,
      view: answerModal(
        { channel: feature.channel ?? body.channel?.id ?? '', featureId: feature.id },
        feature.title,
        current,
      ),
    });
  });
}
