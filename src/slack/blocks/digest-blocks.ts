import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { DateTime } from 'luxon';
import { type BoardEntry, type BoardGroup, type GroupKey, headline } from '../../domain/board';
import type { Feature } from '../../domain/model';
import { useNote } from './card-blocks';
import { escapeMrkdwn, truncate } from './escape';

/** Slack's limits for a message (https://api.slack.com/reference/block-kit/blocks). */
export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_SECTION_TEXT = 3000;
/**
 * Slack rejects messages whose blocks hold much more than ~12,000 characters (`msg_blocks_too_long`,
 * observed around 13,000 and depending on the blocks, slackapi/bolt-js#2509), so builders stay under this.
 */
export const MAX_MESSAGE_TEXT = 12_000;

/** Gives the link to a feature's thread, or undefined when it has no card yet. */
export type LinkFor = (feature: Feature) => string | undefined;

export interface Rendered {
  text: string;
  blocks: KnownBlock[];
}

export interface LineOptions {
  now: DateTime;
  linkFor: LinkFor;
  /** Months-used text per feature id, e.g. "used in 4 of the last 12 months". */
  usage?: ReadonlyMap<string, string>;
  /** Show the owner as a mention (default true; off in an owner's own DM). */
  showOwner?: boolean;
  titleMax?: number;
}

/** Words after "…and N more" for each group. */
export const MORE_WORDS: Readonly<Record<GroupKey, string>> = {
  met: 'met',
  'on track': 'on track',
  'at risk': 'at risk',
  missed: 'missed',
  'waiting for first use': 'waiting for first use',
  'no check yet': 'launched with no check yet',
  'no expectation': 'without an expectation',
  'not launched': 'not launched yet',
  'retro due': 'with a retro due',
  'stale flags': 'with stale flags',
};

const LIST_ALL = '`/donedone list all`';

export function mrkdwn(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

export function context(text: string): ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

/** `<link|F-3>`, or a bold id when the feature has no card to link to. */
export function featureRef(feature: Feature, linkFor: LinkFor): string {
  const id = escapeMrkdwn(feature.id);
  const url = linkFor(feature);
  return url ? `<${url.replace(/[|>]/g, encodeURIComponent)}|${id}>` : `*${id}*`;
}

function inlineCode(text: string, max: number): string {
  return `\`${escapeMrkdwn(truncate(text.replace(/`/g, "'"), max))}\``;
}

const monthAgoCache = new WeakMap<DateTime, number>();

function launchedOverAMonth(entry: BoardEntry, now: DateTime): boolean {
  let monthAgo = monthAgoCache.get(now);
  if (monthAgo === undefined) {
    monthAgo = now.minus({ months: 1 }).toMillis();
    monthAgoCache.set(now, monthAgo);
  }
  return entry.launchedAt !== undefined && entry.launchedAt.toMillis() <= monthAgo;
}

/** What a line adds after the title, depending on the group it is listed in. */
function details(entry: BoardEntry, key: GroupKey, opts: LineOptions): string[] {
  const f = entry.feature;
  switch (key) {
    case 'retro due':
      return entry.deadline
        ? [`deadline ${entry.deadline.setZone(opts.now.zone).toISODate()}, no decision yet`]
        : [];
    case 'stale flags': {
      const s = entry.staleFlag;
      if (!s) return [];
      const why =
        s.reason === 'decided'
          ? `still linked after "${f.decision?.value}": remove it`
          : `${s.ageDays} days old`;
      return [`flag ${inlineCode(s.key, 60)} ${why}`];
    }
    case 'waiting for first use': {
      const use = useNote(f, opts.now);
      return use
        ? [use]
        : entry.launchedAt
          ? [`launched ${entry.launchedAt.setZone(opts.now.zone).toISODate()}`]
          : [];
    }
    case 'no expectation':
    case 'not launched':
      return [];
    default: {
      const use = useNote(f, opts.now);
      const usage = opts.usage?.get(f.id);
      return [
        ...(use ? [use] : []),
        ...(f.lastVerdict === 'too early' && !f.verdictPending ? ['too early to judge'] : []),
        ...(f.verdictPending ? ['verdict pending'] : []),
        ...(usage && launchedOverAMonth(entry, opts.now) ? [escapeMrkdwn(truncate(usage, 60))] : []),
      ];
    }
  }
}

/** One feature as one line of mrkdwn: link, title, owner, and what matters for its group. Bounded in length. */
export function featureLine(entry: BoardEntry, key: GroupKey, opts: LineOptions): string {
  const f = entry.feature;
  const parts = [`${featureRef(f, opts.linkFor)} ${escapeMrkdwn(truncate(f.title, opts.titleMax ?? 80))}`];
  if (opts.showOwner ?? true) parts.push(`<@${escapeMrkdwn(f.ownerId)}>`);
  parts.push(...details(entry, key, opts));
  return parts.join(' · ');
}

/**
 * Shares `capacity` among needs so that small needs are met in full and large ones get equal shares of the
 * rest (water-filling): one huge group cannot crowd the others out of a message.
 */
export function waterFill(needs: readonly number[], capacity: number): number[] {
  const alloc = needs.map(() => 0);
  const order = needs.map((_, i) => i).sort((a, b) => needs[a]! - needs[b]!);
  let left = Math.max(0, Math.floor(capacity));
  order.forEach((idx, k) => {
    const share = Math.floor(left / (order.length - k));
    const a = Math.min(needs[idx]!, share);
    alloc[idx] = a;
    left -= a;
  });
  return alloc;
}

/** Splits lines into section texts of at most `MAX_SECTION_TEXT` characters, breaking only between lines. */
export function chunkLines(lines: readonly string[], max = MAX_SECTION_TEXT): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (current === '') current = line;
    else if (current.length + 1 + line.length <= max) current += `\n${line}`;
    else {
      out.push(current);
      current = line;
    }
  }
  if (current !== '') out.push(current);
  return out;
}

export interface LineGroup {
  title: string;
  lines: string[];
  /** The line that replaces the `hidden` lines that did not fit. */
  more: (hidden: number) => string;
}

/**
 * Lays out titled groups of lines as section blocks within a character and block budget. Each group keeps its
 * title and, when lines had to go, a "…and N more" line; the remaining room is shared by water-filling.
 */
export function packLineGroups(
  groups: readonly LineGroup[],
  budget: { chars: number; blocks: number },
): KnownBlock[] {
  const fixed = groups.map((g) => g.title.length + 1 + g.more(g.lines.length).length + 1);
  const needs = groups.map((g) => g.lines.reduce((n, l) => n + l.length + 1, 0));
  const alloc = waterFill(needs, budget.chars - fixed.reduce((a, b) => a + b, 0));
  const blocks: KnownBlock[] = [];
  groups.forEach((g, i) => {
    const lines = [g.title];
    let used = 0;
    let shown = 0;
    for (const line of g.lines) {
      if (used + line.length + 1 > alloc[i]!) break;
      lines.push(line);
      used += line.length + 1;
      shown += 1;
    }
    if (shown < g.lines.length) lines.push(g.more(g.lines.length - shown));
    for (const text of chunkLines(lines)) blocks.push(mrkdwn(text));
  });
  if (blocks.length > budget.blocks) {
    const kept = blocks.slice(0, Math.max(0, budget.blocks - 1));
    kept.push(context(`_…the board is too long for one message: ${LIST_ALL}_`));
    return kept;
  }
  return blocks;
}

/** Every text a block shows (section text and fields, context elements, header, buttons), for limits. */
export function blockTexts(blocks: readonly KnownBlock[]): string[] {
  const out: string[] = [];
  const take = (t: unknown): void => {
    if (t && typeof t === 'object' && 'text' in t && typeof (t as { text: unknown }).text === 'string') {
      out.push((t as { text: string }).text);
    }
  };
  for (const b of blocks) {
    if (b.type === 'section') {
      take(b.text);
      for (const f of b.fields ?? []) take(f);
      if (b.accessory && 'text' in b.accessory) take(b.accessory.text);
    } else if (b.type === 'context') {
      for (const e of b.elements) take(e);
    } else if (b.type === 'header') {
      take(b.text);
    } else if (b.type === 'actions') {
      for (const e of b.elements) if ('text' in e) take(e.text);
    }
  }
  return out;
}

export function textLength(blocks: readonly KnownBlock[]): number {
  return blockTexts(blocks).reduce((n, t) => n + t.length, 0);
}

export interface DigestInput {
  groups: readonly BoardGroup[];
  now: DateTime;
  linkFor: LinkFor;
  /** Months-used text per feature id, shown for features launched over a month ago. */
  usage?: ReadonlyMap<string, string>;
  /** The team's calibration, in the first digest of a month (learning-service). */
  calibration?: string | null;
}

/** Lines for each non-empty group, each with its "…and N more" wording; shared with the owner DM. */
export function groupLines(
  groups: readonly BoardGroup[],
  opts: LineOptions,
  moreHint: string = LIST_ALL,
  titleSuffix: (key: GroupKey) => string = () => '',
): LineGroup[] {
  return groups
    .filter((g) => g.entries.length > 0)
    .map((g) => ({
      title: `*${g.label}* (${g.entries.length})${titleSuffix(g.key)}`,
      lines: g.entries.map((e) => `• ${featureLine(e, g.key, opts)}`),
      more: (hidden: number) => `_…and ${hidden} more ${MORE_WORDS[g.key]}: ${moreHint}_`,
    }));
}

/**
 * The digest: a header, the headline counts, then each group with one line per feature. However large the
 * board, it stays within 50 blocks, 3,000 characters a section and `MAX_MESSAGE_TEXT` characters in all,
 * summarising what does not fit ("…and 212 more at risk: `/donedone list all`").
 */
export function digestBlocks(input: DigestInput): Rendered {
  const head = headline(input.groups);
  const date = input.now.setLocale('en').toFormat('ccc d LLL yyyy');
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `donedone digest · ${date}`, emoji: true } },
    mrkdwn(`*${escapeMrkdwn(head.text)}*`),
  ];
  const text = `donedone digest: ${head.text}`;
  if (head.total === 0) {
    blocks.push(
      mrkdwn('Nothing on the board yet. Propose a feature with `/donedone propose &lt;title&gt;`.'),
    );
    return { text, blocks };
  }
  if (input.calibration) blocks.push(context(truncate(input.calibration, 2000)));
  const footer = context(
    `Whole board: ${LIST_ALL} · how owners' expectations turned out: \`/donedone scorecard\``,
  );
  const fixedChars = textLength(blocks) + textLength([footer]);
  const groups = groupLines(input.groups, { now: input.now, linkFor: input.linkFor, usage: input.usage });
  blocks.push(
    ...packLineGroups(groups, {
      chars: MAX_MESSAGE_TEXT - fixedChars,
      blocks: MAX_MESSAGE_BLOCKS - blocks.length - 1,
    }),
  );
  blocks.push(footer);
  return { text, blocks };
}
