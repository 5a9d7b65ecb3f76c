import type { KnownBlock } from '@slack/types';
import type { DateTime } from 'luxon';
import { formatNumber } from '../../domain/format-number';
import { guardsOf } from '../../domain/guard';
import { calendarDaysSince, dayIn } from '../../domain/instants';
import type { Check, Feature } from '../../domain/model';
import { describeExpectation, formatMetric } from '../../domain/parse-expectation';
import { deadlineOf } from '../../domain/verdict';
import { escapeMrkdwn, truncate } from './escape';
import { guardsLine } from './guard-blocks';

export const QUESTION = 'How will we know it works in production?';

export interface Message {
  text: string;
  blocks: KnownBlock[];
}

const VERDICT_EMOJI: Record<string, string> = {
  met: ':white_check_mark:',
  missed: ':x:',
  'on track': ':large_green_circle:',
  'at risk': ':warning:',
  'too early': ':seedling:',
  'no data': ':grey_question:',
  unknown: ':hourglass_flowing_sand:',
};

export function verdictLabel(verdict: string): string {
  return `${VERDICT_EMOJI[verdict] ?? ''} *${verdict}*`.trim();
}

/** The line that says whether the metric is instrumented, or null when nothing needs saying. */
export function instrumentationNote(feature: Feature): string | null {
  if (!feature.expectation) return null;
  const metric = escapeMrkdwn(formatMetric(feature.expectation.metric));
  if (feature.instrumented === 'no') {
    return `:warning: \`${metric}\` has no data yet: it is not instrumented. You can't add monitoring after the fact, so add it before launch.`;
  }
  if (feature.instrumented === 'unknown') {
    return `:hourglass_flowing_sand: The telemetry could not be reached, so \`${metric}\` is not checked yet; donedone will check it later.`;
  }
  return null;
}

function statusLine(feature: Feature): string {
  const zone = feature.zone ?? 'UTC';
  const day = (iso: string) => dayIn(iso, zone);
  const parts = [`*Owner* <@${feature.ownerId}>`, `*Status* ${feature.status}`];
  if (feature.launchedAt) parts.push(`*Launched* ${day(feature.launchedAt)}`);
  if (feature.expectation && feature.launchedAt) {
    parts.push(
      `*Deadline* ${deadlineOf(feature.expectation, feature.launchedAt, zone).setZone(zone).toISODate()}`,
    );
  }
  if (feature.usedBeforeLaunch) parts.push('already in use before launch');
  else if (feature.firstUseAt) parts.push(`*First use* ${day(feature.firstUseAt)}`);
  else if (feature.launchedAt && feature.status !== 'dropped') parts.push('waiting for first use');
  if (feature.verdictPending) parts.push('*verdict pending*');
  else if (feature.lastVerdict) parts.push(`*Last check* ${feature.lastVerdict}`);
  return parts.join('  ·  ');
}

/**
 * Where a launched feature stands on use (PRODUCT.md: shown in the digest, the App Home, `list`
 * and `show`, whatever its verdict): "not used yet · launched N days ago", or null.
 */
export function useNote(feature: Feature, now: DateTime): string | null {
  if (!feature.launchedAt || feature.status === 'dropped') return null;
  if (feature.usedBeforeLaunch) return 'already in use before launch';
  if (feature.firstUseAt) return null;
  const days = Math.max(0, calendarDaysSince(feature.launchedAt, now, feature.zone ?? 'UTC'));
  const ago = days === 0 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`;
  return `not used yet · launched ${ago}`;
}

/**
 * The feature card: its message is the feature's thread. `calibration` is a context line of how the
 * owner's past expectations landed (learning-service), shown under the status.
 */
export function cardMessage(feature: Feature, extras: { calibration?: string | null } = {}): Message {
  const title = escapeMrkdwn(truncate(feature.title, 150));
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${feature.id} · ${title}*` } },
  ];
  if (feature.hypothesis) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `_Hypothesis:_ ${escapeMrkdwn(truncate(feature.hypothesis, 2000))}` },
    });
  }
  if (feature.expectation) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Expected:* ${escapeMrkdwn(describeExpectation(feature.expectation))}` },
    });
    const note = instrumentationNote(feature);
    if (note) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: note }] });
    const guards = guardsLine(guardsOf(feature));
    if (guards) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: guards }] });
  } else if (feature.status !== 'dropped') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `:thinking_face: *${QUESTION}*` } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: statusLine(feature) }] });
  if (extras.calibration) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(extras.calibration, 2000) }],
    });
  }
  if (feature.status !== 'dropped' && feature.status !== 'decided') {
    const elements: NonNullable<Extract<KnownBlock, { type: 'actions' }>['elements']> = [];
    if (!feature.expectation) {
      elements.push({
        type: 'button',
        action_id: 'answer_question',
        text: { type: 'plain_text', text: 'Answer the question' },
        style: 'primary',
        value: feature.id,
      });
    } else {
      elements.push({
        type: 'button',
        action_id: 'check_now',
        text: { type: 'plain_text', text: 'Check now' },
        value: feature.id,
      });
      if (!feature.launchedAt) {
        elements.push({
          type: 'button',
          action_id: 'mark_launched',
          text: { type: 'plain_text', text: 'Mark launched' },
          value: feature.id,
        });
      }
      elements.push({
        type: 'button',
        action_id: 'answer_question',
        text: { type: 'plain_text', text: 'Change expectation' },
        value: feature.id,
      });
    }
    blocks.push({ type: 'actions', block_id: `card:${feature.id}`, elements });
  }
  const text = feature.expectation
    ? `${feature.id} · ${title}: expected ${escapeMrkdwn(feature.expectation.text)}`
    : `${feature.id} · ${title}: ${QUESTION}`;
  return { text, blocks };
}

/** A check posted in the feature's thread: expected vs actual, the verdict, the query. */
export function checkMessage(feature: Feature, check: Check, metricUnit?: string): Message {
  const e = feature.expectation!;
  // A percentage target compares a ratio; otherwise the catalog's unit (exports, ms) is shown.
  const unit = e.unit ?? metricUnit;
  const actual = check.value === null ? 'no data' : formatNumber(check.value, unit);
  const expected = `${e.op} ${formatNumber(e.target, unit)} per ${e.window}`;
  const lines = [
    `*${feature.id} · ${escapeMrkdwn(truncate(feature.title, 150))}*: ${verdictLabel(check.verdict)}`,
    `*Expected* ${escapeMrkdwn(expected)}   *Actual* ${actual} in the ${e.window} to ${check.at.slice(0, 16).replace('T', ' ')} UTC`,
  ];
  if (check.projected !== undefined && check.projected !== null) {
    lines.push(`*Projected at the deadline* ${formatNumber(check.projected, unit)}`);
  }
  if (check.verdict === 'unknown') {
    lines.push(
      check.kind === 'final'
        ? `:grey_question: ${escapeMrkdwn(check.error ?? 'The telemetry')}: the telemetry could not be reached for 7 days after the deadline, so this expectation was never measured. It is not counted as a miss.`
        : `:hourglass_flowing_sand: ${escapeMrkdwn(check.error ?? 'The telemetry')} could not be reached. This is not a miss: donedone will try again.`,
    );
  }
  if (check.verdict === 'too early') {
    lines.push(
      `:seedling: Less than ${e.window === 'day' ? 'a day' : '7 days'} of use since first use: too early to judge the rate.`,
    );
  }
  if (check.verdict === 'no data') {
    lines.push(
      `:warning: The telemetry answered, but \`${escapeMrkdwn(formatMetric(e.metric))}\` has no data.`,
    );
  }
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }];
  if (check.query) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Query: \`${escapeMrkdwn(truncate(check.query, 2900))}\`` }],
    });
  }
  return {
    text: `${feature.id}: ${check.verdict}. Expected ${expected}, actual ${actual}.`,
    blocks,
  };
}
