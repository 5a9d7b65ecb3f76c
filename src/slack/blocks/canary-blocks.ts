import type { KnownBlock } from '@slack/types';
import { DateTime } from 'luxon';
import { type ChartSeries, type ChartSpec, MAX_SERIES } from '../../charts/render-chart';
import { formatNumber } from '../../charts/scale';
import { isRated } from '../../domain/parse-canary';
import type { CanaryResult, NodeSeries } from '../../usecases/canary-service';
import { context, MAX_SECTION_TEXT, mrkdwn, type Rendered } from './digest-blocks';
import { escapeMrkdwn, truncate } from './escape';

/** Nodes listed by name in the message; the rest are counted. */
export const MAX_LISTED_NODES = 20;

/** Inline code for user text: backticks cannot close it early, and `<&>` stay literal. */
function code(text: string, max = 120): string {
  return `\`${escapeMrkdwn(truncate(text.replace(/`/g, "'"), max))}\``;
}

/** `$/min` for a metric counted in dollars, `/min` otherwise; none for a gauge (averaged, not a rate). */
export function rateUnit(metric: string): string {
  if (!isRated(metric)) return '';
  return /(^|_)dollars?(_|$)/.test(metric) ? '$/min' : '/min';
}

function rate(value: number | null, unit: string): string {
  return value === null ? 'no data' : `${formatNumber(value)} ${unit}`.trim();
}

/** `−30.1%`, `+2.4%`: always signed, with a real minus sign. */
export function signedPercent(value: number): string {
  const rounded = Number(value.toFixed(1));
  if (rounded === 0) return '0%';
  return `${rounded > 0 ? '+' : '\u2212'}${Math.abs(rounded).toFixed(1)}%`;
}

function pValueText(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

function window(result: CanaryResult): string {
  const { start, end } = result;
  const sameDay = start.hasSame(end, 'day');
  const from = start.toFormat(sameDay ? 'HH:mm' : 'd LLL HH:mm');
  return `${from}–${end.toFormat(sameDay ? 'HH:mm' : 'd LLL HH:mm')} UTC`;
}

export interface CanaryMessageOptions {
  /** The feature the canary belongs to, named at the top. */
  feature?: { id: string; title: string };
}

/**
 * The judgement: verdict and difference with its interval first (what a person deciding a
 * rollout reads), then each node's rate, then how it was judged and the query to reproduce it.
 */
export function canaryMessage(result: CanaryResult, opts: CanaryMessageOptions = {}): Rendered {
  const { spec, judgement: j } = result;
  const unit = rateUnit(spec.metric);
  const who = code(`${spec.label}=${spec.value}`);
  const direction = j.difference < 0 ? 'lower' : 'higher';
  const worse = spec.higherIsBetter ? 'lower' : 'higher';
  const tolerance = Math.round(result.tolerance * 100);
  const confidence = Math.round(result.confidence * 100);
  const verdict = j.verdict === 'hold' ? ':octagonal_sign: *Hold*' : ':white_check_mark: *Pass*';
  const shift =
    Number(j.difference.toFixed(1)) === 0
      ? 'about the same as'
      : `${Math.abs(j.difference).toFixed(1)}% ${direction} than`;
  const featureLine = opts.feature
    ? `Canary of *${escapeMrkdwn(opts.feature.id)}* ${escapeMrkdwn(truncate(opts.feature.title, 120))}\n`
    : '';
  const lead =
    `${featureLine}${verdict}: ${who} is ${shift} the other ${spec.label} values on ${code(spec.metric)} ` +
    `over the last ${spec.over}.`;
  const why =
    j.verdict === 'hold'
      ? `the whole interval is more than ${tolerance}% ${worse}`
      : j.ok && (spec.higherIsBetter ? j.low >= -tolerance : j.high <= tolerance)
        ? `no worse than ${tolerance}% ${worse}`
        : `the data cannot show it is more than ${tolerance}% ${worse}`;
  const detail =
    `Difference *${signedPercent(j.difference)}* (${confidence}% confidence interval ` +
    `${signedPercent(j.low)} to ${signedPercent(j.high)}), ${pValueText(j.pValue)}: ${why}.`;

  const rows = nodeRows(result, unit);
  const blocks: KnownBlock[] = [mrkdwn(`${lead}\n${detail}`), mrkdwn(rows)];
  const method = j.method === 'exact' ? 'exact' : 'normal approximation';
  const worseWord = spec.higherIsBetter ? 'higher is better' : 'lower is better';
  blocks.push(
    context(
      `Mann-Whitney U at ${confidence}% (${method}) and the Hodges-Lehmann shift in percent of the ` +
        `${j.percentOf}, as Kayenta; ${worseWord}; hold beyond ${tolerance}% worse. ` +
        `${j.canaryPoints} canary and ${j.baselinePoints} baseline points, one a minute, ${window(result)}. ` +
        `Baseline: the median of the other ${result.others.length === 1 ? 'value' : `${result.others.length} values`} each minute.`,
    ),
  );
  blocks.push(context(`Query: ${code(result.query, 500)}`));
  const text =
    `${j.verdict === 'hold' ? 'Hold' : 'Pass'}: ${spec.label}=${spec.value} is ${shift} the other ${spec.label} values on ` +
    `${spec.metric} over the last ${spec.over} (${signedPercent(j.difference)}, ${confidence}% CI ` +
    `${signedPercent(j.low)} to ${signedPercent(j.high)}).`;
  return { text: escapeMrkdwn(text), blocks };
}

function nodeRows(result: CanaryResult, unit: string): string {
  const { spec } = result;
  const lines = [`*Per-minute ${unit ? 'rate' : 'average'} over the window (median)*`];
  const line = (node: NodeSeries, tag = '') =>
    `• ${code(node.value || '(empty)', 80)}${tag}: ${rate(node.median, unit)}`;
  lines.push(line(result.canary, ' (canary)'));
  for (const node of result.others.slice(0, MAX_LISTED_NODES)) lines.push(line(node));
  if (result.others.length > MAX_LISTED_NODES) {
    lines.push(`• …and ${result.others.length - MAX_LISTED_NODES} more ${spec.label} values`);
  }
  lines.push(`Baseline (median of the others each minute): ${rate(result.judgement.baselineMedian, unit)}`);
  const joined = lines.join('\n');
  return joined.length <= MAX_SECTION_TEXT ? joined : truncate(joined, MAX_SECTION_TEXT);
}

function toChartPoints(points: { at: number; value: number | null }[]) {
  return points
    .filter((p): p is { at: number; value: number } => p.value !== null && Number.isFinite(p.value))
    .map((p) => ({ at: DateTime.fromSeconds(p.at, { zone: 'utc' }), value: p.value }));
}

/**
 * The chart: the canary and each other node, one line each; with more nodes than a chart can tell
 * apart, the canary and the baseline (the median of the others each minute).
 */
export function canaryChartSpec(result: CanaryResult): ChartSpec {
  const { spec } = result;
  const canary: ChartSeries = {
    name: `${spec.value} (canary)`,
    points: toChartPoints(result.canary.points),
  };
  const series: ChartSeries[] =
    result.others.length <= MAX_SERIES - 1
      ? [
          canary,
          ...result.others.map((n) => ({ name: n.value || '(empty)', points: toChartPoints(n.points) })),
        ]
      : [
          canary,
          {
            name: `baseline (median of ${result.others.length})`,
            points: toChartPoints(result.baseline),
          },
        ];
  return {
    title: `${spec.metric} per minute by ${spec.label}: ${result.judgement.verdict} (${signedPercent(result.judgement.difference)})`,
    unit: rateUnit(spec.metric),
    series,
  };
}

/** The answer when no judgement could be made: the reason, only to the person who asked. */
export function canaryProblemMessage(message: string): Rendered {
  const safe = escapeMrkdwn(truncate(message, MAX_SECTION_TEXT - 20));
  return { text: safe, blocks: [mrkdwn(`:warning: ${safe}`)] };
}
