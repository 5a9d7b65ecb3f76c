import type { KnownBlock, View } from '@slack/types';
import type { Expectation, Op, WindowUnit } from '../../domain/model';
import { formatMetric, formatTarget } from '../../domain/parse-expectation';
import { truncate } from './escape';

export interface ModalContext {
  channel: string;
  /** Post the card in this thread (the shortcut's message). */
  threadTs?: string;
  /** The feature whose question is answered. */
  featureId?: string;
}

const OPS: { value: Op; label: string }[] = [
  { value: '>=', label: 'at least (>=)' },
  { value: '>', label: 'more than (>)' },
  { value: '<=', label: 'at most (<=)' },
  { value: '<', label: 'less than (<)' },
];
const WINDOWS: WindowUnit[] = ['day', 'week', 'month'];

/** An option whose value is the metric as written in the grammar (Slack allows 150 characters). */
export function metricOption(metric: string, label?: string) {
  return {
    text: { type: 'plain_text' as const, text: truncate(label ?? metric, 75) },
    value: metric.slice(0, 150),
  };
}

function option(text: string, value: string) {
  return { text: { type: 'plain_text' as const, text }, value };
}

function expectationInputs(
  current: Partial<Expectation> & { ownerId?: string },
  optional: boolean,
): KnownBlock[] {
  const op = OPS.find((o) => o.value === (current.op ?? '>=')) ?? OPS[0]!;
  const window = current.window ?? 'week';
  return [
    {
      type: 'input',
      block_id: 'metric',
      optional,
      label: { type: 'plain_text', text: 'Metric' },
      hint: {
        type: 'plain_text',
        text: 'A catalog name, a Prometheus metric (bulk_export_total{plan="pro"}), or posthog:"event name"',
      },
      // An external select: the catalog, Prometheus names and PostHog events as you type, and
      // whatever you typed yourself (a selector with labels) as the first option.
      element: {
        type: 'external_select',
        action_id: 'value',
        min_query_length: 0,
        placeholder: { type: 'plain_text', text: 'Type to search: bulk_export_total' },
        ...(current.metric ? { initial_option: metricOption(formatMetric(current.metric)) } : {}),
      },
    },
    {
      type: 'input',
      block_id: 'op',
      label: { type: 'plain_text', text: 'Comparison' },
      element: {
        type: 'static_select',
        action_id: 'value',
        options: OPS.map((o) => option(o.label, o.value)),
        initial_option: option(op.label, op.value),
      },
    },
    {
      type: 'input',
      block_id: 'target',
      optional,
      label: { type: 'plain_text', text: 'Target' },
      hint: { type: 'plain_text', text: 'A number: 200, 1.5k, 2m or 12.5%' },
      element: {
        type: 'plain_text_input',
        action_id: 'value',
        placeholder: { type: 'plain_text', text: '200' },
        ...(current.target !== undefined
          ? {
              initial_value: formatTarget({
                target: current.target,
                ...(current.unit ? { unit: current.unit } : {}),
              }),
            }
          : {}),
      },
    },
    {
      type: 'input',
      block_id: 'window',
      label: { type: 'plain_text', text: 'Per' },
      element: {
        type: 'static_select',
        action_id: 'value',
        options: WINDOWS.map((w) => option(w, w)),
        initial_option: option(window, window),
      },
    },
    {
      type: 'input',
      block_id: 'deadline',
      label: { type: 'plain_text', text: 'Judged how many days after launch' },
      element: {
        type: 'number_input',
        is_decimal_allowed: false,
        action_id: 'value',
        min_value: '1',
        max_value: '366',
        initial_value: String(current.deadlineDays ?? 30),
      },
    },
    {
      type: 'input',
      block_id: 'guards',
      optional: true,
      label: { type: 'plain_text', text: 'Guardrails' },
      hint: {
        type: 'plain_text',
        text: 'One a line, watched every 5 minutes from launch to the deadline: checkout_error_ratio < 2% over 3h',
      },
      element: {
        type: 'plain_text_input',
        action_id: 'value',
        multiline: true,
        max_length: 2000,
        placeholder: { type: 'plain_text', text: 'checkout_error_ratio < 2% over 3h' },
        ...(current.guards?.length ? { initial_value: current.guards.map((g) => g.text).join('\n') } : {}),
      },
    },
    {
      type: 'input',
      block_id: 'owner',
      label: { type: 'plain_text', text: 'Owner' },
      element: {
        type: 'users_select',
        action_id: 'value',
        ...(current.ownerId ? { initial_user: current.ownerId } : {}),
      },
    },
  ];
}

/** The proposal modal: title, hypothesis and an optional expectation. */
export function proposeModal(ctx: ModalContext, prefill: { title?: string; ownerId: string }): View {
  return {
    type: 'modal',
    callback_id: 'propose_modal',
    private_metadata: JSON.stringify(ctx),
    title: { type: 'plain_text', text: 'Propose a feature' },
    submit: { type: 'plain_text', text: 'Propose' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'title',
        label: { type: 'plain_text', text: 'Title' },
        element: {
          type: 'plain_text_input',
          action_id: 'value',
          max_length: 150,
          ...(prefill.title ? { initial_value: truncate(prefill.title, 150) } : {}),
        },
      },
      {
        type: 'input',
        block_id: 'hypothesis',
        optional: true,
        label: { type: 'plain_text', text: 'Hypothesis' },
        element: {
          type: 'plain_text_input',
          action_id: 'value',
          multiline: true,
          max_length: 2000,
          placeholder: {
            type: 'plain_text',
            text: 'Teams with large accounts will export weekly instead of asking support',
          },
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*How will we know it works in production?* Leave it empty to answer later.',
        },
      },
      ...expectationInputs({ ownerId: prefill.ownerId }, true),
    ],
  };
}

/** The modal that answers the question for an existing feature. */
export function answerModal(
  ctx: ModalContext,
  title: string,
  current: Partial<Expectation> & { ownerId: string },
): View {
  return {
    type: 'modal',
    callback_id: 'answer_modal',
    private_metadata: JSON.stringify(ctx),
    title: { type: 'plain_text', text: 'Expectation' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${ctx.featureId} · ${truncate(title, 150).replace(/[<>&]/g, '')}*\nHow will we know it works in production?`,
        },
      },
      ...expectationInputs(current, false),
    ],
  };
}
