import type { KnownBlock } from '@slack/types';
import { formatNumber } from '../../domain/format-number';
import type { Feature, Guard } from '../../domain/model';
import { formatOver } from '../../domain/parse-guard';
import type { Message } from './card-blocks';
import { escapeMrkdwn, truncate } from './escape';

export const GUARD_ACTIONS = { pause: 'guard_pause', dismiss: 'guard_dismiss' } as const;

/** What a Pause or Dismiss button carries: the feature, the guard's key and the breach's number. */
export function guardButtonValue(featureId: string, guardKey: string, episode: number): string {
  return `${featureId}|${guardKey}|${episode}`;
}

export function readGuardButtonValue(
  value: string,
): { featureId: string; guardKey: string; episode: number } | null {
  const [featureId, guardKey, episode] = value.split('|');
  const n = Number(episode);
  if (!featureId || !guardKey || !Number.isInteger(n) || n < 1) return null;
  return { featureId, guardKey, episode: n };
}

const OP_WORDS: Record<Guard['op'], string> = {
  '<': 'below',
  '<=': 'at most',
  '>': 'above',
  '>=': 'at least',
};

function title(feature: Feature): string {
  return `*${feature.id} · ${escapeMrkdwn(truncate(feature.title, 150))}*`;
}

function guardCode(guard: Guard): string {
  return `\`${escapeMrkdwn(guard.text)}\``;
}

/** `2.6%`, with the guard's unit. */
export function guardValue(guard: Guard, value: number | null): string {
  return value === null ? 'no value' : formatNumber(value, guard.unit);
}

/** What auto-pause did, when the guard has it. */
export interface AutoPauseNote {
  ok: boolean;
  text: string;
}

/**
 * A breach seen twice in a row, in the feature's thread: what broke, by how much, over which
 * window, and **Pause rollout** / **Dismiss** (unless auto-pause already paused it).
 */
export function guardBreachMessage(
  feature: Feature,
  guard: Guard,
  value: number | null,
  guardKey: string,
  episode: number,
  autoPause?: AutoPauseNote,
): Message {
  const limit = `${OP_WORDS[guard.op]} ${formatNumber(guard.target, guard.unit)}`;
  const lines = [
    `${title(feature)}: :rotating_light: *guardrail breached*`,
    `${guardCode(guard)} is ${guardValue(guard, value)} over the last ${formatOver(guard.overSeconds)}: it should stay ${escapeMrkdwn(limit)}. Seen in two evaluations in a row.`,
  ];
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }];
  if (autoPause) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${autoPause.ok ? ':double_vertical_bar:' : ':warning:'} *auto-pause*: ${autoPause.text}`,
      },
    });
  }
  if (!autoPause?.ok) {
    const value = guardButtonValue(feature.id, guardKey, episode);
    blocks.push({
      type: 'actions',
      block_id: `guard:${feature.id}:${guardKey}:${episode}`,
      elements: [
        {
          type: 'button',
          action_id: GUARD_ACTIONS.pause,
          text: { type: 'plain_text', text: 'Pause rollout' },
          style: 'danger',
          value,
          confirm: {
            title: { type: 'plain_text', text: 'Pause the rollout?' },
            text: {
              type: 'mrkdwn',
              text: feature.flag
                ? `This turns the flag \`${escapeMrkdwn(feature.flag.key)}\` off.`
                : 'No flag is linked: the decision is recorded and the thread says what to turn off.',
            },
            confirm: { type: 'plain_text', text: 'Pause rollout' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        {
          type: 'button',
          action_id: GUARD_ACTIONS.dismiss,
          text: { type: 'plain_text', text: 'Dismiss' },
          value,
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: 'While a guardrail is breached, the rollout gate answers `ok: false`. Pause rollout is for the owner, the proposer and admins.',
      },
    ],
  });
  const pausedText = autoPause ? ` Auto-pause: ${autoPause.text}` : '';
  return {
    // Fallback text is shown in notifications too: user text in it is escaped so it never pings.
    text:
      escapeMrkdwn(`${feature.id}: guardrail breached: ${guard.text} is ${guardValue(guard, value)}.`) +
      pausedText,
    blocks,
  };
}

/** The guard holds again (two good readings in a row), once. */
export function guardRecoveredMessage(feature: Feature, guard: Guard, value: number | null): Message {
  const text = `${title(feature)}: :large_green_circle: guardrail ${guardCode(guard)} holds again (${guardValue(guard, value)} over the last ${formatOver(guard.overSeconds)}).`;
  return {
    text: escapeMrkdwn(`${feature.id}: guardrail ${guard.text} holds again (${guardValue(guard, value)}).`),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

/** The owner's DM about a breach. */
export function guardOwnerDm(
  feature: Feature,
  guard: Guard,
  value: number | null,
  autoPause?: AutoPauseNote,
): Message {
  const where = feature.channel ? ` in <#${feature.channel}>` : '';
  const next = autoPause
    ? `Auto-pause: ${autoPause.text}`
    : `**Pause rollout** or **Dismiss** in its thread${where}.`.replace(/\*\*/g, '*');
  const text = `:rotating_light: A guardrail of your feature ${title(feature)} is breached: ${guardCode(guard)} is ${guardValue(guard, value)}. ${next}`;
  return {
    text: escapeMrkdwn(
      `A guardrail of ${feature.id} is breached: ${guard.text} is ${guardValue(guard, value)}.`,
    ),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

/** The thread's note of a pause (pressed or automatic). */
export function pausedMessage(feature: Feature, by: string, text: string): Message {
  const who = by === 'auto-pause' ? 'Auto-pause' : `<@${by}>`;
  return {
    text: `${feature.id}: rollout paused. ${text}`,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:double_vertical_bar: ${who} paused the rollout of *${feature.id}*. ${text}`,
        },
      },
    ],
  };
}

export function dismissedMessage(feature: Feature, guard: Guard, by: string): Message {
  return {
    text: escapeMrkdwn(`${feature.id}: the breach of ${guard.text} was dismissed.`),
    blocks: [
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `<@${by}> dismissed the breach of ${guardCode(guard)}: the gate no longer fails on it. A new breach is told again.`,
          },
        ],
      },
    ],
  };
}

/** One line listing a feature's guardrails, for the card and `show`; null without any. */
export function guardsLine(guards: Guard[], breached: string[] = []): string | null {
  if (guards.length === 0) return null;
  const items = guards.map(
    (g) =>
      `${guardCode(g)}${g.autoPause ? ' (auto-pause)' : ''}${breached.includes(g.text) ? ' :rotating_light: breached' : ''}`,
  );
  return truncate(`*Guardrails* ${items.join(', ')}`, 2900);
}
