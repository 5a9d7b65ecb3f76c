import type { KnownBlock } from '@slack/types';
import type { CatalogEntry } from '../../domain/catalog';
import type { Message } from './card-blocks';
import { chunkLines } from './digest-blocks';
import { escapeMrkdwn, truncate } from './escape';

const PER_SOURCE = 40;
const SOURCE_NAMES: Record<string, string> = {
  prometheus: 'Prometheus',
  posthog: 'PostHog',
  honeycomb: 'Honeycomb',
};

/** What can be measured, for `/donedone metrics [search]`: the catalog first, then each source's own names. */
export function metricsMessage(
  search: string | undefined,
  listing: { catalog: CatalogEntry[]; bySource: { source: string; names: string[]; error?: string }[] },
): Message {
  const blocks: KnownBlock[] = [];
  const heading = search
    ? `Metrics matching “${escapeMrkdwn(truncate(search, 80))}”`
    : 'What donedone can measure';
  blocks.push({
    type: 'header',
    text: { type: 'plain_text', text: truncate(heading.replace(/&[a-z]+;/g, ''), 150) },
  });
  if (listing.catalog.length > 0) {
    const lines = listing.catalog.map(
      (e) =>
        `• \`${e.name}\` ${escapeMrkdwn(truncate(e.description, 120))} _(${e.source}${e.unit ? `, ${escapeMrkdwn(e.unit)}` : ''})_`,
    );
    for (const text of chunkLines(['*Catalog* (write these names in expectations)', ...lines]).slice(0, 10)) {
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
    }
  }
  for (const s of listing.bySource) {
    const name = SOURCE_NAMES[s.source] ?? s.source;
    if (s.error) {
      blocks.push({
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `:warning: ${name} could not be listed just now; try again in a minute.` },
        ],
      });
      continue;
    }
    if (s.names.length === 0) continue;
    const shown = s.names.slice(0, PER_SOURCE);
    const example =
      s.source === 'prometheus' ? (n: string) => `\`${n}\`` : (n: string) => `\`${s.source}:"${n}"\``;
    const more =
      s.names.length > shown.length
        ? `\n…and ${s.names.length - shown.length} more: narrow with \`/donedone metrics <search>\``
        : '';
    const text = truncate(
      `*${name}* (${s.names.length})\n${shown.map((n) => escapeMrkdwn(example(n))).join(', ')}${more}`,
      3000,
    );
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  }
  if (blocks.length === 1) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: search
          ? 'Nothing matches. `/donedone metrics` lists everything.'
          : 'No telemetry is configured: set PROMETHEUS_URL, PostHog or Honeycomb settings, or a metric catalog.',
      },
    });
  }
  const count = listing.catalog.length + listing.bySource.reduce((n, s) => n + s.names.length, 0);
  return { text: `${heading}: ${count} metrics`, blocks: blocks.slice(0, 50) };
}
