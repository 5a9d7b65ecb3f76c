import type { KnownBlock } from '@slack/types';
import type { Feature, MetricRef } from '../../domain/model';
import type { MonthsUsed } from '../../domain/months-used';
import { NO_DATA_CHAR, UNUSED_CHAR, USED_CHAR } from '../../domain/months-used';
import { context, featureRef, type LinkFor, mrkdwn, type Rendered } from './digest-blocks';
import { escapeMrkdwn, truncate } from './escape';

/** The metric's name as the user wrote it, in inline code. */
function inlineMetric(metric: MetricRef): string {
  const name =
    metric.source === 'prometheus' || metric.source === 'catalog'
      ? metric.name
      : `${metric.source}:"${metric.event}"`;
  return `\`${escapeMrkdwn(truncate(name.replace(/`/g, "'"), 200))}\``;
}

export interface UsageInput {
  feature: Feature;
  usage: MonthsUsed;
  linkFor: LinkFor;
}

/**
 * The answer to `/donedone usage F-3`: "F-3 Bulk export: used in 4 of the last 12 months", then the months as
 * a strip with month initials underneath (monospace, so they line up), and what "used" means.
 */
export function usageBlocks(input: UsageInput): Rendered {
  const { feature, usage } = input;
  const title = escapeMrkdwn(truncate(feature.title, 120));
  const lead = `${featureRef(feature, input.linkFor)} ${title}: *${usage.text}*`;
  const blocks: KnownBlock[] = [mrkdwn(lead), mrkdwn(`\`\`\`${usage.strip}\n${usage.initials}\`\`\``)];
  const first = usage.months[0]?.month;
  const last = usage.months[usage.months.length - 1]?.month;
  const span =
    first && last
      ? `${first.setLocale('en').toFormat('LLL yyyy')} to ${last.setLocale('en').toFormat('LLL yyyy')} (so far)`
      : '';
  const metric = feature.expectation ? inlineMetric(feature.expectation.metric) : 'the metric';
  const legend = [
    `${USED_CHAR} used: ${metric} above zero in that calendar month`,
    `${UNUSED_CHAR} not used`,
  ];
  const noData = usage.months.filter((m) => m.value === null);
  if (noData.length > 0) legend.push(`${NO_DATA_CHAR} no data`);
  blocks.push(context(`${span}. ${legend.join(' · ')}`));
  if (noData.length > 0 && noData.length < usage.months.length) {
    const names = noData.map((m) => m.month.setLocale('en').toFormat('LLL yyyy')).join(', ');
    blocks.push(context(`No data for ${names}: those months are not counted as used.`));
  } else if (noData.length === usage.months.length) {
    blocks.push(
      context('The telemetry has no data for this metric in the last 12 months: is it instrumented?'),
    );
  }
  return { text: `${feature.id} ${title}: ${usage.text}`, blocks };
}
