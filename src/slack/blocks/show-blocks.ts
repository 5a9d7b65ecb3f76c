import type { KnownBlock } from '@slack/types';
import type { DateTime } from 'luxon';
import { formatNumber } from '../../domain/format-number';
import type { Check, Feature } from '../../domain/model';
import { cardMessage, type Message, useNote } from './card-blocks';
import { chunkLines } from './digest-blocks';
import { escapeMrkdwn, truncate } from './escape';

const MAX_LIST_BLOCKS = 45;
const LIST_TEXT_BUDGET = 11_000;

/** Everything about a feature, for `/donedone show`: the card without buttons, checks and notes. */
export function showMessage(
  feature: Feature,
  checks: Check[],
  notes: { user: string; text: string; at: string }[] = [],
  now?: DateTime,
): Message {
  const card = cardMessage(feature).blocks.filter((b) => b.type !== 'actions');
  const blocks: KnownBlock[] = [...card];
  const use = now ? useNote(feature, now) : null;
  if (use?.startsWith('not used yet')) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `:hourglass: *${use}*: nobody has used it since launch yet.` },
    });
  }
  if (feature.decision) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Decision* ${feature.decision.value} by <@${feature.decision.by}> on ${feature.decision.at.slice(0, 10)}`,
      },
    });
  }
  if (feature.flag) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Feature flag \`${escapeMrkdwn(feature.flag.key)}\` since ${feature.flag.since}`,
        },
      ],
    });
  }
  for (const pause of (feature.pauses ?? []).slice(-3)) {
    const who = pause.by === 'auto-pause' ? 'auto-pause' : `<@${pause.by}>`;
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncate(
            `:double_vertical_bar: Rollout paused by ${who} on ${pause.at.slice(0, 16).replace('T', ' ')} (\`${escapeMrkdwn(pause.guard)}\`): ${pause.provider === 'none' ? 'no flag tool' : pause.provider}${pause.flag ? `, flag \`${escapeMrkdwn(pause.flag)}\`` : ''}, ${escapeMrkdwn(pause.answer)}`,
            2900,
          ),
        },
      ],
    });
  }
  const recent = checks.slice(-10);
  if (recent.length > 0) {
    const unit = feature.expectation?.unit;
    const lines = recent.map(
      (c) =>
        `• ${c.at.slice(0, 16).replace('T', ' ')} ${c.kind}: ${c.value === null ? 'no value' : formatNumber(c.value, unit)} → *${c.verdict}*`,
    );
    const header =
      checks.length > recent.length ? `*Checks* (last ${recent.length} of ${checks.length})` : '*Checks*';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`${header}\n${lines.join('\n')}`, 3000) },
    });
  } else if (feature.expectation) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `No checks yet: \`/donedone check ${feature.id}\`` }],
    });
  }
  if (notes.length > 0) {
    const lines = notes
      .slice(-10)
      .map((n) => `• <@${n.user}> ${n.at.slice(0, 10)}: ${escapeMrkdwn(truncate(n.text, 200))}`);
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Notes*\n${lines.join('\n')}`, 3000) },
    });
  }
  return { text: cardMessage(feature).text, blocks };
}

export function listLine(feature: Feature, now?: DateTime): string {
  const verdict = feature.verdictPending
    ? ' · verdict pending'
    : feature.lastVerdict
      ? ` · last check ${feature.lastVerdict}`
      : '';
  const use = now ? useNote(feature, now) : null;
  return `• *${feature.id}* ${escapeMrkdwn(truncate(feature.title, 80))} — ${feature.status}${use ? ` · ${use}` : ''}${verdict} · <@${feature.ownerId}>`;
}

/** The board as a list, within Slack's limits: about 11,000 characters of text, then a pointer to the rest. */
export function listMessage(features: Feature[], heading: string, now?: DateTime): Message {
  if (features.length === 0) {
    return {
      text: `${heading}: nothing yet.`,
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: `*${heading}*: nothing yet. Propose one: \`/donedone propose Bulk export\``,
          },
        },
      ],
    };
  }
  const lines: string[] = [];
  let used = 0;
  for (const feature of features) {
    const line = listLine(feature, now);
    if (used + line.length + 1 > LIST_TEXT_BUDGET) break;
    lines.push(line);
    used += line.length + 1;
  }
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${heading}* (${features.length})` } },
  ];
  for (const text of chunkLines(lines).slice(0, MAX_LIST_BLOCKS))
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  const rest = features.length - lines.length;
  if (rest > 0) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `…and ${rest} more. The list is cut here: narrow it with \`mine\` or an @mention.`,
        },
      ],
    });
  }
  const n = features.length;
  return { text: `${heading}: ${n} feature${n === 1 ? '' : 's'}`, blocks };
}

export const HELP_TEXT = [
  '*donedone* asks "How will we know it works in production?" and then checks.',
  '`/donedone propose <title> [expect <expectation>]`: propose a feature (alone: open the form)',
  "`/donedone expect F-3 <expectation>`: record or replace F-3's expectation",
  '`/donedone launch F-3 [YYYY-MM-DD]`: F-3 shipped (today, or on a past date)',
  "`/donedone check F-3`: measure now, in F-3's thread",
  '`/donedone show F-3`: everything about F-3, only to you',
  '`/donedone list [all|mine|@user]`: the board',
  '`/donedone digest [every monday 09:00 Europe/Berlin|off|schedule]`: the channel digest',
  '`/donedone scorecard [@user]`, `/donedone usage F-3`, `/donedone flag F-3 <key> [since YYYY-MM-DD]`',
  '`/donedone retro F-3`, `/donedone drop F-3 [reason]`, `/donedone metrics [search]`',
  '`/donedone owner F-3 @user`: hand F-3 over (its owner, its proposer or an admin)',
  '`/donedone canary <metric> <label>=<value> [over 1h]`: judge a canary against the other nodes',
  '`/donedone guard F-3 <metric> <op> <number> [over 3h] [auto-pause]`: a guardrail, watched every 5 minutes from launch to the deadline',
  '`/donedone suggest F-3`: metrics that may tell whether F-3 works, with suggested targets',
  '`/donedone api-token [list|revoke <prefix>]`: (many workspaces, admins) an API token for this workspace',
  '`/donedone forget-workspace`: (admins) delete everything donedone keeps about this workspace',
  '',
  '*Expectations*: `<metric> <op> <number> [per day|week|month] [within <N> days|weeks]`, e.g. `bulk_export_total >= 200 per week within 30 days`, `checkout_total{variant="new"} at least 1.5k per week`, `posthog:"export clicked" >= 200 per week`.',
  '*Guardrails* follow an expectation: `… guard checkout_error_ratio < 2% over 3h guard http_p95_seconds < 0.5`.',
].join('\n');
