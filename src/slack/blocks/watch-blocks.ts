import { DateTime } from 'luxon';
import { formatNumber } from '../../domain/format-number';
import type { Check, Feature } from '../../domain/model';
import { formatMetric } from '../../domain/parse-expectation';
import type { Message } from './card-blocks';
import { escapeMrkdwn, truncate } from './escape';

function title(feature: Feature): string {
  return `*${feature.id} · ${escapeMrkdwn(truncate(feature.title, 150))}*`;
}

function section(text: string): Message['blocks'][number] {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** A day as the workspace reads it (the zone the feature was launched in). */
export function dayOf(feature: Feature, at: DateTime | string): string {
  const t = typeof at === 'string' ? DateTime.fromISO(at, { zone: 'utc' }) : at;
  return t.setZone(feature.zone ?? 'UTC').toISODate()!;
}

export function doneDoneMessage(feature: Feature, firstUse: DateTime): Message {
  const day = dayOf(feature, firstUse);
  return {
    text: `${feature.id} is done-done: first customer use on ${day}.`,
    blocks: [
      section(`:tada: ${title(feature)} is *done-done*: shipped and used. First customer use on *${day}*.`),
    ],
  };
}

export function ownerAlertMessage(feature: Feature, check: Check, link?: string): Message {
  const e = feature.expectation!;
  const where = link ? ` (<${link}|thread>)` : '';
  const actual = check.value === null ? 'no data' : formatNumber(check.value, e.unit);
  const lines =
    check.verdict === 'missed'
      ? `:x: ${title(feature)} *missed* its expectation at the deadline: ${actual} against ${e.op} ${formatNumber(e.target, e.unit)} per ${e.window}${where}. Time for a retro: keep, iterate or remove?`
      : `:warning: ${title(feature)} is *at risk*: ${actual} now, projected ${formatNumber(check.projected ?? 0, e.unit)} at the deadline against ${e.op} ${formatNumber(e.target, e.unit)} per ${e.window}${where}.`;
  return { text: `${feature.id}: ${check.verdict}`, blocks: [section(lines)] };
}

export function dataStoppedMessage(feature: Feature, check: Check): Message {
  const metric = escapeMrkdwn(formatMetric(feature.expectation!.metric));
  return {
    text: `${feature.id}: ${formatMetric(feature.expectation!.metric)} stopped returning data`,
    blocks: [
      section(
        `:rotating_light: ${title(feature)}: \`${metric}\` had data and now returns none (window to ${check.at.slice(0, 16).replace('T', ' ')} UTC). Was the instrumentation removed, or did the feature break?`,
      ),
    ],
  };
}

export function launchedMessage(feature: Feature, scheduled: number): Message {
  const day = dayOf(feature, feature.launchedAt!);
  const text = feature.expectation
    ? `:rocket: ${title(feature)} launched on ${day}. I'll look for the first customer use every hour, check the metric every week (${scheduled} checks to come) and judge it at the deadline.`
    : `:rocket: ${title(feature)} launched on ${day}. It has no expectation, so nothing can be checked: \`/donedone expect ${feature.id} <metric> >= <n> per week\``;
  return { text: `${feature.id} launched on ${day}`, blocks: [section(text)] };
}

/** The metric moved in the week before launch: first use cannot be told from it. */
export function usedBeforeLaunchMessage(feature: Feature, before: number): Message {
  const metric = escapeMrkdwn(formatMetric(feature.expectation!.metric));
  return {
    text: `${feature.id}: already in use before launch: choose a metric that only this feature moves`,
    blocks: [
      section(
        `:warning: ${title(feature)}: \`${metric}\` was already in use before launch (${formatNumber(before, feature.expectation!.unit)} in the 7 days before it), so its first use cannot tell that customers use this feature and no done-done will be announced from it: choose a metric that only this feature moves (\`/donedone expect ${feature.id} <metric> >= <n> per week\`). Checks judge the rate since launch.`,
      ),
    ],
  };
}

/** The telemetry could not be reached at the deadline: the verdict waits, it is not a miss. */
export function verdictPendingMessage(
  feature: Feature,
  check: Check,
  until: DateTime,
  zone: string,
): Message {
  const why = check.error ? escapeMrkdwn(check.error) : 'the telemetry could not be reached';
  const day = until.setZone(zone).toISODate();
  return {
    text: `${feature.id}: verdict pending (the telemetry could not be reached at the deadline)`,
    blocks: [
      section(
        `:hourglass_flowing_sand: ${title(feature)}: *verdict pending*. At the deadline ${why}. This is not a miss: I keep trying until ${day}, and \`/donedone check ${feature.id}\` settles it as soon as the telemetry answers. The retro opens when the verdict is known.`,
      ),
    ],
  };
}
