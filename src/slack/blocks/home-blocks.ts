import type { HomeView, KnownBlock, SectionBlock } from '@slack/types';
import type { DateTime } from 'luxon';
import { type BoardGroup, headline } from '../../domain/board';
import {
  context,
  featureLine,
  type LinkFor,
  MAX_MESSAGE_TEXT,
  MORE_WORDS,
  mrkdwn,
  textLength,
  waterFill,
} from './digest-blocks';
import { escapeMrkdwn } from './escape';

/** Slack's limit for a Home tab. */
export const MAX_HOME_BLOCKS = 100;
export const HOME_PROPOSE_ACTION = 'home_propose';
export const HOME_OPEN_ACTION = 'home_open_feature';
/** At most this many blocks for "Your features", so the team board always has room. */
const YOUR_BLOCKS = 34;
const YOUR_CHARS = 4_000;
const OPEN = 'Open';

export interface HomeInput {
  userId: string;
  groups: readonly BoardGroup[];
  now: DateTime;
  linkFor: LinkFor;
  usage?: ReadonlyMap<string, string>;
}

interface FeatureRow {
  id: string;
  line: string;
}

interface RowGroup {
  title: string;
  rows: FeatureRow[];
  more: (hidden: number) => string;
}

function featureBlock(row: FeatureRow): SectionBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: row.line },
    accessory: {
      type: 'button',
      text: { type: 'plain_text', text: OPEN },
      action_id: HOME_OPEN_ACTION,
      value: row.id,
    },
  };
}

/**
 * One block per feature (with its Open button) under each group's title, within a block and a character
 * budget shared among groups by water-filling; what does not fit becomes "…and N more at risk".
 */
function packRows(groups: readonly RowGroup[], budget: { blocks: number; chars: number }): KnownBlock[] {
  const fixedBlocks = groups.length * 2;
  const fixedChars = groups.reduce((n, g) => n + g.title.length + g.more(g.rows.length).length, 0);
  const byBlocks = waterFill(
    groups.map((g) => g.rows.length),
    budget.blocks - fixedBlocks,
  );
  const charNeeds = groups.map((g, i) =>
    g.rows.slice(0, byBlocks[i]).reduce((n, r) => n + r.line.length + OPEN.length, 0),
  );
  const byChars = waterFill(charNeeds, budget.chars - fixedChars);
  const blocks: KnownBlock[] = [];
  groups.forEach((g, i) => {
    blocks.push(mrkdwn(g.title));
    let used = 0;
    let shown = 0;
    for (const row of g.rows.slice(0, byBlocks[i])) {
      const cost = row.line.length + OPEN.length;
      if (used + cost > byChars[i]!) break;
      blocks.push(featureBlock(row));
      used += cost;
      shown += 1;
    }
    if (shown < g.rows.length) blocks.push(context(g.more(g.rows.length - shown)));
  });
  return blocks;
}

function rowGroups(input: HomeInput, groups: readonly BoardGroup[], moreHint: string): RowGroup[] {
  return groups
    .filter((g) => g.entries.length > 0)
    .map((g) => ({
      title: `*${g.label}* (${g.entries.length})`,
      rows: g.entries.map((e) => ({
        id: e.feature.id,
        line: featureLine(e, g.key, {
          now: input.now,
          linkFor: input.linkFor,
          usage: input.usage,
          titleMax: 60,
        }),
      })),
      more: (hidden: number) => `_…and ${hidden} more ${MORE_WORDS[g.key]}: ${moreHint}_`,
    }));
}

/**
 * The App Home tab: a Propose button, "Your features" (the viewer's own, by group), then the "Team board" in
 * the same groups, each feature with an Open button. Stays within 100 blocks and `MAX_MESSAGE_TEXT` characters.
 */
export function homeView(input: HomeInput): HomeView {
  const mine = input.groups.map((g) => ({
    ...g,
    entries: g.entries.filter((e) => e.feature.ownerId === input.userId),
  }));
  const teamHead = headline(input.groups);
  const myHead = headline(mine);
  const top: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'donedone', emoji: true } },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Propose a feature' },
          action_id: HOME_PROPOSE_ACTION,
          style: 'primary',
        },
      ],
    },
    mrkdwn(`*Your features* · ${escapeMrkdwn(myHead.text)}`),
  ];
  const teamTitle: KnownBlock[] = [
    { type: 'divider' },
    mrkdwn(`*Team board* · ${escapeMrkdwn(teamHead.text)}`),
  ];
  const footer = context(
    'Whole board: `/donedone list all` · scorecard: `/donedone scorecard` · help: `/donedone help`',
  );
  const fixed = [...top, ...teamTitle, footer];
  let blocksLeft = MAX_HOME_BLOCKS - fixed.length;
  let charsLeft = MAX_MESSAGE_TEXT - textLength(fixed);

  const myRows = rowGroups(input, mine, '`/donedone list mine`');
  const myBlocks =
    myRows.length === 0
      ? [context('You own nothing on the board. Propose a feature with the button above.')]
      : packRows(myRows, {
          blocks: Math.min(YOUR_BLOCKS, blocksLeft),
          chars: Math.min(YOUR_CHARS, charsLeft),
        });
  blocksLeft -= myBlocks.length;
  charsLeft -= textLength(myBlocks);

  const teamRows = rowGroups(input, input.groups, '`/donedone list all`');
  const teamBlocks =
    teamRows.length === 0
      ? [context('Nothing on the board yet.')]
      : packRows(teamRows, { blocks: blocksLeft, chars: charsLeft });

  return { type: 'home', blocks: [...top, ...myBlocks, ...teamTitle, ...teamBlocks, footer] };
}
