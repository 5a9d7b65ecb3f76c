import type { KnownBlock } from '@slack/types';
import { DateTime } from 'luxon';
import { formatNumber } from '../../domain/format-number';
import type { Decision, Expectation, Feature, Retro } from '../../domain/model';
import { formatMetric } from '../../domain/parse-expectation';
import { deadlineOf } from '../../domain/verdict';
import { type Message, verdictLabel } from './card-blocks';
import { escapeMrkdwn, truncate } from './escape';

export const RETRO_ACTIONS: Record<Decision, string> = {
  keep: 'retro_keep',
  iterate: 'retro_iterate',
  remove: 'retro_remove',
};

type DecisionRecord = NonNullable<Feature['decision']>;

/** One cycle of a feature as its retro shows it: the current one, or an earlier one kept in `history`. */
export interface RetroView {
  id: string;
  title: string;
  hypothesis?: string;
  ownerId: string;
  expectation: Expectation;
  firstUseAt?: string;
  flag?: Feature['flag'];
  retro: Retro;
  decision?: DecisionRecord;
  /** True when an Iterate started a later cycle: this retro's decision is final. */
  superseded: boolean;
}

/** The cycle whose retro message is `ts` (default: the current cycle's), or null. */
export function retroViewOf(feature: Feature, ts?: string): RetroView | null {
  const base = {
    id: feature.id,
    title: feature.title,
    ownerId: feature.ownerId,
    ...(feature.hypothesis ? { hypothesis: feature.hypothesis } : {}),
    ...(feature.flag ? { flag: feature.flag } : {}),
  };
  if (feature.retro && feature.expectation && (ts === undefined || feature.retro.ts === ts)) {
    return {
      ...base,
      expectation: feature.expectation,
      retro: feature.retro,
      superseded: false,
      ...(feature.firstUseAt ? { firstUseAt: feature.firstUseAt } : {}),
      ...(feature.decision ? { decision: feature.decision } : {}),
    };
  }
  const earlier = (feature.history ?? []).find((h) => h.retro && (ts === undefined || h.retro.ts === ts));
  if (!earlier?.retro || !earlier.expectation) return null;
  return {
    ...base,
    expectation: earlier.expectation,
    retro: earlier.retro,
    superseded: true,
    ...(earlier.firstUseAt ? { firstUseAt: earlier.firstUseAt } : {}),
    ...(earlier.decision ? { decision: earlier.decision } : {}),
  };
}

const DECISION_EMOJI: Record<Decision, string> = {
  keep: ':white_check_mark:',
  iterate: ':repeat:',
  remove: ':wastebasket:',
};

function day(iso: string): string {
  return iso.slice(0, 10);
}

function when(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function expectedText(e: Expectation): string {
  return `${e.op} ${formatNumber(e.target, e.unit)} per ${e.window}`;
}

function firstUseText(view: RetroView): string {
  const launched = DateTime.fromISO(view.retro.launchedAt, { zone: 'utc' });
  if (!view.firstUseAt) {
    const days = Math.max(0, Math.floor(DateTime.fromISO(view.retro.openedAt).diff(launched).as('days')));
    return `not seen in the ${days} days since launch`;
  }
  const days = Math.max(0, Math.floor(DateTime.fromISO(view.firstUseAt).diff(launched).as('days')));
  return `${day(view.firstUseAt)} (${days === 0 ? 'launch day' : `${days} day${days === 1 ? '' : 's'} after launch`})`;
}

function monthsUsedText(view: RetroView): string {
  const m = view.retro.monthsUsed;
  if (!m) return 'unknown: the telemetry could not say';
  return `used in ${m.count} of the last 12 months\n\`${m.strip}\``;
}

export function decisionLine(decision: DecisionRecord, previous?: DecisionRecord): string {
  const changed = previous && previous.value !== decision.value ? ` (changed from ${previous.value})` : '';
  return `${DECISION_EMOJI[decision.value]} *Decision: ${decision.value}*${changed} by <@${decision.by}> on ${when(decision.at)}`;
}

/**
 * The retro message, posted in the feature's channel: the hypothesis, expected vs actual, the verdict,
 * first use, months used, then the decision (or the buttons asking for one). Re-rendered by chat.update
 * when a decision is taken, from the facts stored as the retro opened.
 */
export function retroMessage(view: RetroView): Message {
  const { retro, expectation: e } = view;
  const title = escapeMrkdwn(truncate(view.title, 150));
  const cycle = retro.cycle > 1 ? ` (cycle ${retro.cycle})` : '';
  const actual = retro.actual.value === null ? 'no data' : formatNumber(retro.actual.value, e.unit);
  const deadline = deadlineOf(e, retro.launchedAt).toISODate();
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `:mag: *Retrospective · ${view.id} · ${title}*${cycle}` },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: view.hypothesis
          ? `_Hypothesis:_ ${escapeMrkdwn(truncate(view.hypothesis, 2000))}`
          : '_Hypothesis:_ none was written down.',
      },
    },
    {
      type: 'section',
      fields: [
        {
          type: 'mrkdwn',
          text: `*Expected*\n${escapeMrkdwn(expectedText(e))}\n\`${escapeMrkdwn(truncate(formatMetric(e.metric), 300))}\``,
        },
        {
          type: 'mrkdwn',
          text: `*Actual*\n${actual} in the ${e.window} to ${when(retro.actual.at)}`,
        },
        { type: 'mrkdwn', text: `*Verdict*\n${verdictLabel(retro.actual.verdict)}` },
        { type: 'mrkdwn', text: `*First use*\n${firstUseText(view)}` },
        { type: 'mrkdwn', text: `*Launched → deadline*\n${day(retro.launchedAt)} → ${deadline}` },
        { type: 'mrkdwn', text: `*Months used*\n${monthsUsedText(view)}` },
      ],
    },
  ];
  if (view.decision) {
    const lines = [decisionLine(view.decision, retro.previousDecision)];
    if (view.decision.value === 'iterate') {
      lines.push(
        view.superseded
          ? `${view.id} moved on to a new cycle with a new expectation; this cycle is kept in its history.`
          : `${view.id} starts a new cycle: record the new expectation, then launch it.`,
      );
    } else if (!view.superseded) {
      lines.push(`Only <@${view.ownerId}> (the owner) can change it.`);
    }
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  } else {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*What now, <@${view.ownerId}>?* Keep it, iterate (a new expectation, a new cycle), or remove it.`,
      },
    });
  }
  if (!view.superseded && view.decision?.value !== 'iterate') {
    blocks.push({
      type: 'actions',
      block_id: `retro:${view.id}:${retro.cycle}`,
      elements: (['keep', 'iterate', 'remove'] as const).map((value) => ({
        type: 'button' as const,
        action_id: RETRO_ACTIONS[value],
        text: { type: 'plain_text' as const, text: value.charAt(0).toUpperCase() + value.slice(1) },
        value: view.id,
        ...(view.decision?.value === value
          ? { style: 'primary' as const }
          : value === 'remove'
            ? {
                style: 'danger' as const,
                confirm: {
                  title: { type: 'plain_text' as const, text: `Remove ${view.id}?` },
                  text: {
                    type: 'mrkdwn' as const,
                    text: 'The decision is recorded; removing the code and any flag is up to the team.',
                  },
                  confirm: { type: 'plain_text' as const, text: 'Remove' },
                  deny: { type: 'plain_text' as const, text: 'Cancel' },
                },
              }
            : {}),
      })),
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Replies in this thread are kept as ${view.id}'s notes: \`/donedone show ${view.id}\`.`,
      },
    ],
  });
  // The fallback text is mrkdwn too (notifications show it): the title is escaped as in the blocks.
  const head = `Retrospective ${view.id} · ${escapeMrkdwn(truncate(view.title, 150))}: ${retro.actual.verdict}. Expected ${expectedText(e)}, actual ${actual}.`;
  const tail = view.decision
    ? ` Decision: ${view.decision.value} by <@${view.decision.by}>.`
    : ' Keep, iterate or remove?';
  return { text: head + tail, blocks };
}

function plain(text: string): Message {
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** In the retro thread after Keep or Remove, when a flag is linked: the flag can go. */
export function flagRemovalMessage(view: RetroView, decision: Decision): Message {
  const flag = view.flag!;
  const key = escapeMrkdwn(flag.key);
  return plain(
    decision === 'remove'
      ? `:triangular_flag_on_post: ${view.id} is to be removed: turn the feature flag \`${key}\` off, then delete it with the feature's code. <@${view.ownerId}>`
      : `:triangular_flag_on_post: ${view.id} stays: the feature flag \`${key}\` (since ${flag.since}) has done its job. Remove the flag and keep the code path it guards. <@${view.ownerId}>`,
  );
}

/** In the retro thread, one week after it opened without a decision. */
export function reminderMessage(view: RetroView): Message {
  return plain(
    `:alarm_clock: This retro has waited a week for a decision. <@${view.ownerId}>, keep ${view.id}, iterate on it, or remove it?`,
  );
}

/** To the owner, one week after the retro opened without a decision. */
export function reminderDm(view: RetroView, permalink?: string): Message {
  const where = permalink
    ? `<${permalink}|its retro thread>`
    : `its retro thread in <#${view.retro.channel}>`;
  return plain(
    `:alarm_clock: *${view.id} · ${escapeMrkdwn(truncate(view.title, 150))}* still needs a decision: keep, iterate or remove, in ${where}. It has waited a week.`,
  );
}

/** The reply that opens the chart's thread when the chart could not be drawn. */
export function chartUnavailableMessage(view: RetroView, reason: string): Message {
  return plain(
    `:hourglass_flowing_sand: The chart of ${view.id} could not be drawn: ${escapeMrkdwn(truncate(reason, 500))}. \`/donedone check ${view.id}\` measures it again.`,
  );
}
