import type { KnownBlock, SectionBlock } from '@slack/types';
import type { Score, Scorecard } from '../../domain/scorecard';
import {
  context,
  MAX_MESSAGE_BLOCKS,
  MAX_MESSAGE_TEXT,
  mrkdwn,
  packLineGroups,
  type Rendered,
  textLength,
} from './digest-blocks';
import { escapeMrkdwn } from './escape';

const COLUMNS: { label: string; value: (s: Score) => string }[] = [
  { label: 'prop', value: (s) => String(s.proposed) },
  { label: 'exp', value: (s) => String(s.withExpectation) },
  { label: 'w/o', value: (s) => String(s.withoutExpectation) },
  { label: 'lnch', value: (s) => String(s.launched) },
  { label: 'use', value: (s) => String(s.inUse) },
  { label: 'met', value: (s) => String(s.met) },
  { label: 'miss', value: (s) => String(s.missed) },
  { label: 'retro', value: (s) => String(s.retrosDecided) },
  { label: 'met%', value: (s) => sharePercent(s.shareMet) },
];

const WIDTH = 5;

/** "80%", or "–" when nothing was judged yet. */
export function sharePercent(share: number | null): string {
  return share === null ? '–' : `${Math.round(share * 100)}%`;
}

function row(cells: string[]): string {
  return `\`${cells.map((c) => c.padStart(WIDTH)).join(' ')}\``;
}

function teamFields(team: Score): SectionBlock {
  const field = (label: string, value: string) => ({ type: 'mrkdwn' as const, text: `*${label}*\n${value}` });
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: '*Team*' },
    fields: [
      field('Proposed', String(team.proposed)),
      field('With an expectation', String(team.withExpectation)),
      field('Without an expectation', String(team.withoutExpectation)),
      field('Launched', String(team.launched)),
      field('In use', String(team.inUse)),
      field('Met / missed', `${team.met} / ${team.missed}`),
      field('Share met', sharePercent(team.shareMet)),
      field('Retros decided', String(team.retrosDecided)),
    ],
  };
}

export interface ScorecardInput {
  card: Scorecard;
  /** Only this owner's row (`/donedone scorecard @user`); the team totals are still shown. */
  ownerId?: string;
  /** How judged expectations landed (calibration's words), for the team and per owner id. */
  calibration?: { team: string | null; owners: ReadonlyMap<string, string> };
}

/**
 * The scorecard: team totals as section fields, then one monospace row per owner (the numbers first, so the
 * columns line up whatever the width of the name, then the owner as a mention). Rows that do not fit the
 * message are summarised.
 */
export function scorecardBlocks(input: ScorecardInput): Rendered {
  const { card } = input;
  const owners = input.ownerId ? card.owners.filter((o) => o.ownerId === input.ownerId) : card.owners;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'donedone scorecard', emoji: true } },
    teamFields(card.team),
  ];
  if (input.calibration?.team) {
    blocks.push(mrkdwn(`*Team calibration:* ${input.calibration.team}`));
  }
  const legend = context(
    'prop proposed · exp with an expectation · w/o without one · lnch launched · use first use seen · ' +
      'met / miss judged at the deadline · retro retros decided · met% met ÷ (met + missed). ' +
      'An iterated feature counts once per cycle for lnch, use, met and miss.',
  );
  const text = `donedone scorecard: ${card.team.met} met, ${card.team.missed} missed (${sharePercent(card.team.shareMet)} met) over ${card.team.proposed} features proposed`;
  if (owners.length === 0) {
    blocks.push(
      mrkdwn(input.ownerId ? `<@${escapeMrkdwn(input.ownerId)}> owns no features yet.` : 'No features yet.'),
    );
    return { text, blocks };
  }
  const table = {
    title: `*By owner*\n${row(COLUMNS.map((c) => c.label))}`,
    lines: owners.map((o) => `${row(COLUMNS.map((c) => c.value(o)))} <@${escapeMrkdwn(o.ownerId)}>`),
    more: (hidden: number) => `_…and ${hidden} more owners: \`/donedone scorecard @user\`_`,
  };
  const calibrated = owners.filter((o) => input.calibration?.owners.has(o.ownerId));
  const calibration = {
    title: '*Calibration by owner* (judged expectations: actual ÷ target, inverted for "at most")',
    lines: calibrated.map(
      (o) => `<@${escapeMrkdwn(o.ownerId)}>: ${input.calibration!.owners.get(o.ownerId)}`,
    ),
    more: (hidden: number) => `_…and ${hidden} more owners: \`/donedone scorecard @user\`_`,
  };
  blocks.push(
    ...packLineGroups(calibrated.length > 0 ? [table, calibration] : [table], {
      chars: MAX_MESSAGE_TEXT - textLength(blocks) - textLength([legend]),
      blocks: MAX_MESSAGE_BLOCKS - blocks.length - 1,
    }),
  );
  blocks.push(legend);
  return { text, blocks };
}
