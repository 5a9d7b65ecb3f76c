import type { KnownBlock } from '@slack/types';
import { formatNumber } from '../../domain/format-number';
import type { Op } from '../../domain/model';
import type { Offer, OfferedMetric } from '../../usecases/learning-service';
import type { Message } from './card-blocks';
import { MAX_SECTION_TEXT } from './digest-blocks';
import { escapeMrkdwn, truncate } from './escape';

/** The action of a suggestion's button: opens the expectation form filled in with it. */
export const SUGGEST_USE_ACTION = 'suggest_use';

/** What the button carries (Slack allows 2,000 characters in a button's value). */
export interface SuggestUseValue {
  /** Feature id. */
  f: string;
  /** Metric as written. */
  m: string;
  o?: Op;
  t?: number;
}

const SOURCE_WORDS: Record<OfferedMetric['source'], string> = {
  catalog: 'catalog',
  prometheus: 'Prometheus',
  posthog: 'PostHog',
  honeycomb: 'Honeycomb',
};

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function valueLine(m: OfferedMetric): string {
  if (m.valueError) return '*This week:* unknown (the telemetry could not say just now)';
  if (m.value === null) return '*This week:* no data yet';
  return `*This week:* ${formatNumber(m.value)}`;
}

function targetLine(m: OfferedMetric): string {
  if (!m.target)
    return '*Suggested target:* none yet: with no level to start from, pick one after it is instrumented';
  return `*Suggested target:* ${m.target.op} ${formatNumber(m.target.target)} per week (${escapeMrkdwn(m.target.why)})`;
}

function similarLine(m: OfferedMetric): string | null {
  if (m.similar.length === 0) return null;
  const parts = m.similar.slice(0, 2).map((p) => {
    const outcome = p.verdict
      ? `${p.verdict}${p.share !== null && p.share !== undefined ? `, ${percent(p.share)} of target` : ''}`
      : 'not judged yet';
    return `${escapeMrkdwn(p.id)} · ${escapeMrkdwn(truncate(p.title, 60))} (${outcome})`;
  });
  return `*Similar:* ${parts.join('; ')}`;
}

/** One suggestion as a section, with the button that fills in the expectation form. */
function suggestionBlock(m: OfferedMetric, featureId: string | undefined): KnownBlock {
  const lines = [
    `\`${escapeMrkdwn(truncate(m.metric, 300))}\` · ${SOURCE_WORDS[m.source]}`,
    ...(m.description ? [`_${escapeMrkdwn(truncate(m.description, 300))}_`] : []),
    valueLine(m),
    targetLine(m),
  ];
  const similar = similarLine(m);
  if (similar) lines.push(similar);
  const text = truncate(lines.join('\n'), MAX_SECTION_TEXT);
  const value: SuggestUseValue | null = featureId
    ? { f: featureId, m: m.metric, ...(m.target ? { o: m.target.op, t: m.target.target } : {}) }
    : null;
  const json = value ? JSON.stringify(value) : '';
  // Slack refuses a button value over 2,000 characters and an option over 150 (the form's metric).
  if (!value || json.length > 2000 || m.metric.length > 150) {
    return { type: 'section', text: { type: 'mrkdwn', text } };
  }
  return {
    type: 'section',
    text: { type: 'mrkdwn', text },
    accessory: {
      type: 'button',
      action_id: SUGGEST_USE_ACTION,
      text: { type: 'plain_text', text: 'Use this' },
      value: json,
    },
  };
}

/**
 * The suggestions for a feature: up to three metrics, each with this week's value, a suggested target
 * and a button, or a plain "nothing close" (never a padded list). At most 6 blocks.
 */
export function suggestMessage(offer: Offer): Message {
  const name = offer.featureId
    ? `${escapeMrkdwn(offer.featureId)} · ${escapeMrkdwn(truncate(offer.title, 150))}`
    : escapeMrkdwn(truncate(offer.title, 150));
  const unavailable =
    offer.searched.unavailable.length > 0
      ? ` (${offer.searched.unavailable.join(', ')} could not be listed just now)`
      : '';
  if (offer.metrics.length === 0) {
    const text = `Nothing close to “${name}” among ${offer.searched.metrics} metrics and ${offer.searched.features} past features${unavailable}, so no suggestion rather than a guess. \`/donedone metrics <word>\` lists what can be measured.`;
    return {
      text: `No metric suggestion for ${offer.featureId ?? offer.title}: nothing close.`,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, MAX_SECTION_TEXT) } }],
    };
  }
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(`*Metrics that may tell whether ${name} works*`, MAX_SECTION_TEXT),
      },
    },
    ...offer.metrics.slice(0, 3).map((m) => suggestionBlock(m, offer.featureId)),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Ranked by the words they share with the title (names, descriptions, past features' titles). Suggested targets are 10–30% above this week's level, less when similar features fell short of theirs.${unavailable}`,
        },
      ],
    },
  ];
  const names = offer.metrics.map((m) => m.metric).join(', ');
  return { text: `Metrics that may tell for ${offer.featureId ?? offer.title}: ${names}`, blocks };
}
