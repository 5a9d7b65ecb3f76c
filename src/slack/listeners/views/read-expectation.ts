import type { Expectation } from '../../../domain/model';
import { parseExpectation, parseMetric, parseNumber } from '../../../domain/parse-expectation';
import { parseGuards } from '../../../domain/parse-guard';

type Values = Record<
  string,
  Record<
    string,
    { value?: string | null; selected_option?: { value: string } | null; selected_user?: string | null }
  >
>;

export function field(values: Values, block: string): string {
  const v = values[block]?.value;
  return (v?.value ?? v?.selected_option?.value ?? v?.selected_user ?? '').trim();
}

/**
 * Reads the expectation fields of a modal. Each problem is tied to its field, for
 * `response_action: errors`; nothing is stored unless all of them are right.
 */
export function readExpectation(
  values: Values,
  opts: {
    optional: boolean;
    isCatalogName: (name: string) => boolean;
    whyUnmeasurable: (e: Expectation) => string | null;
  },
): { expectation?: Expectation; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const metric = field(values, 'metric');
  const target = field(values, 'target');
  if (opts.optional && !metric && !target) return { errors };
  if (!metric) errors.metric = 'Name the metric, e.g. bulk_export_total or posthog:"export clicked".';
  if (!target) errors.target = 'Give a target, e.g. 200, 1.5k or 12.5%.';
  if (metric) {
    const m = parseMetric(metric, opts.isCatalogName);
    if (!m.ok) errors.metric = m.error.split('\n')[0]!;
    else if (m.value.rest.trim())
      errors.metric = `Only the metric goes here; "${m.value.rest.trim()}" is extra.`;
  }
  if (target && !parseNumber(target))
    errors.target = `"${target}" is not a number: write 200, 1.5k, 2m or 12.5%.`;
  const deadline = Number(field(values, 'deadline') || '30');
  if (!Number.isInteger(deadline) || deadline < 1 || deadline > 366)
    errors.deadline = 'A whole number of days, 1 to 366.';
  if (Object.keys(errors).length > 0) return { errors };
  // Guardrails, one a line (`guard` in front is allowed), read by the same grammar.
  const guardLines = (values.guards?.value?.value ?? '')
    .split(/[\n;]+/)
    .map((l) => l.trim().replace(/^guard\s+/i, ''))
    .filter(Boolean);
  const guards = parseGuards(guardLines, opts.isCatalogName);
  if (!guards.ok) return { errors: { guards: guards.error.replace(/\n/g, ' ') } };
  const text = `${metric} ${field(values, 'op') || '>='} ${target} per ${field(values, 'window') || 'week'} within ${deadline} days`;
  const parsed = parseExpectation(text, opts.isCatalogName);
  if (!parsed.ok) {
    const message = parsed.error.split('\n')[0]!;
    // A window longer than the deadline is the deadline field's to fix.
    return { errors: { [/cannot fit before a deadline/.test(message) ? 'deadline' : 'metric']: message } };
  }
  if (guards.value.length > 0) parsed.value.guards = guards.value;
  const why = opts.whyUnmeasurable(parsed.value);
  if (why) return { errors: { metric: why } };
  return { expectation: parsed.value, errors };
}
