import type { KnownBlock } from '@slack/types';
import type { DateTime } from 'luxon';
import type { BoardGroup, GroupKey } from '../../domain/board';
import {
  context,
  groupLines,
  type LinkFor,
  MAX_MESSAGE_BLOCKS,
  MAX_MESSAGE_TEXT,
  mrkdwn,
  packLineGroups,
  type Rendered,
  textLength,
} from './digest-blocks';
import { escapeMrkdwn } from './escape';

/** The groups that ask something of an owner, in the order they are listed in the DM. */
export const OWNER_GROUPS: readonly GroupKey[] = [
  'no expectation',
  'at risk',
  'missed',
  'retro due',
  'stale flags',
];

/** What the owner is asked to do, after each group's title. */
const ASKS: Partial<Record<GroupKey, string>> = {
  'no expectation': ' — how will we know it works? `/donedone expect F-&lt;n&gt; &lt;expectation&gt;`',
  'at risk': ' — the metric is behind its target: `/donedone check F-&lt;n&gt;`',
  missed: ' — the deadline passed below target',
  'retro due': ' — decide keep, iterate or remove in the retro thread: `/donedone retro F-&lt;n&gt;`',
  'stale flags': ' — remove the flag from the code and the flag service',
};

export interface OwnerDmInput {
  ownerId: string;
  groups: readonly BoardGroup[];
  now: DateTime;
  linkFor: LinkFor;
}

/**
 * The DM to one owner listing their features that need them: no expectation, at risk, missed, retro due and
 * stale flags. Null when nothing needs them, so no DM is sent.
 */
export function ownerDmBlocks(input: OwnerDmInput): Rendered | null {
  const mine: BoardGroup[] = OWNER_GROUPS.map((key) => {
    const g = input.groups.find((x) => x.key === key);
    return {
      key,
      label: g?.label ?? key,
      entries: (g?.entries ?? []).filter((e) => e.feature.ownerId === input.ownerId),
    };
  }).filter((g) => g.entries.length > 0);
  if (mine.length === 0) return null;
  const ids = new Set(mine.flatMap((g) => g.entries.map((e) => e.feature.id)));
  const n = ids.size;
  const lead = `${n} of your ${n === 1 ? 'feature needs' : 'features need'} you`;
  const blocks: KnownBlock[] = [mrkdwn(`Hi <@${escapeMrkdwn(input.ownerId)}>, ${lead}:`)];
  const footer = context(
    'All of yours: `/donedone list mine` · everything about one: `/donedone show F-&lt;n&gt;`',
  );
  const groups = groupLines(
    mine,
    { now: input.now, linkFor: input.linkFor, showOwner: false },
    '`/donedone list mine`',
    (key) => ASKS[key] ?? '',
  );
  blocks.push(
    ...packLineGroups(groups, {
      chars: MAX_MESSAGE_TEXT - textLength(blocks) - textLength([footer]),
      blocks: MAX_MESSAGE_BLOCKS - blocks.length - 1,
    }),
  );
  blocks.push(footer);
  const counts = mine.map((g) => `${g.label.toLowerCase()}: ${g.entries.length}`).join(', ');
  return { text: `donedone: ${lead} (${counts})`, blocks };
}
