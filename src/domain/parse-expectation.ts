import type { Expectation, LabelMatcher, MetricRef, Op, WindowUnit } from './model';
import { parseGuards, splitGuards } from './parse-guard';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** A correct example, shown with every grammar error. */
export const EXPECTATION_EXAMPLE = 'bulk_export_total >= 200 per week within 30 days';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const MAX_DEADLINE_DAYS = 366;

function fail<T>(message: string): ParseResult<T> {
  return { ok: false, error: `${message}\nExample: \`${EXPECTATION_EXAMPLE}\`` };
}

/** Reads a double-quoted string starting at `text[start] === '"'`; returns the value and the index after it. */
function readQuoted(text: string, start: number): { value: string; end: number } | null {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) return null;
      value += next === 'n' ? '\n' : next;
      i++;
    } else if (c === '"') {
      return { value, end: i + 1 };
    } else {
      value += c;
    }
  }
  return null;
}

/** Parses `{a="b", c!~"d.*"}` starting at `text[start] === '{'`. */
function readSelector(text: string, start: number): ParseResult<{ matchers: LabelMatcher[]; end: number }> {
  const matchers: LabelMatcher[] = [];
  let i = start + 1;
  const skipSpace = () => {
    while (text[i] === ' ') i++;
  };
  skipSpace();
  if (text[i] === '}') return { ok: true, value: { matchers, end: i + 1 } };
  for (;;) {
    skipSpace();
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name) {
      return fail(
        `The label selector \`${text.slice(start)}\` is not valid: expected a label name at "${text.slice(i, i + 10)}".`,
      );
    }
    i += name.length;
    skipSpace();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => text.startsWith(o, i));
    if (!op) return fail(`The label selector needs \`=\`, \`!=\`, \`=~\` or \`!~\` after \`${name}\`.`);
    i += op.length;
    skipSpace();
    if (text[i] !== '"')
      return fail(`The value of label \`${name}\` must be in double quotes, like \`${name}="new"\`.`);
    const quoted = readQuoted(text, i);
    if (!quoted) return fail(`The value of label \`${name}\` has no closing quote.`);
    if (op === '=~' || op === '!~') {
      try {
        new RegExp(quoted.value);
      } catch {
        return fail(`The regular expression for label \`${name}\` is not valid: \`${quoted.value}\`.`);
      }
    }
    matchers.push({ name, op, value: quoted.value });
    i = quoted.end;
    skipSpace();
    if (text[i] === ',') {
      i++;
      skipSpace();
      if (text[i] === '}') return { ok: true, value: { matchers, end: i + 1 } };
      continue;
    }
    if (text[i] === '}') return { ok: true, value: { matchers, end: i + 1 } };
    return fail('The label selector is not closed: end it with `}`, e.g. `checkout_total{variant="new"}`.');
  }
}

/** Reads the metric at the start of `text`: a quoted source name, or a metric name with an optional selector. */
export function parseMetric(
  text: string,
  isCatalogName: (name: string) => boolean = () => false,
): ParseResult<{ metric: MetricRef; rest: string }> {
  const trimmed = text.trimStart();
  const sourced = /^(posthog|honeycomb):/i.exec(trimmed);
  if (sourced) {
    const source = sourced[1]!.toLowerCase() as 'posthog' | 'honeycomb';
    const at = sourced[0].length;
    let event: string;
    let end: number;
    if (trimmed[at] === '"') {
      const quoted = readQuoted(trimmed, at);
      if (!quoted) return fail(`The ${source} event name has no closing quote.`);
      event = quoted.value;
      end = quoted.end;
    } else {
      event = /^\S+/.exec(trimmed.slice(at))?.[0] ?? '';
      end = at + event.length;
    }
    if (!event.trim())
      return fail(`Name the ${source} event, like \`${source}:"export clicked" >= 200 per week\`.`);
    if (event.length > 200) return fail(`The ${source} event name is longer than 200 characters.`);
    return { ok: true, value: { metric: { source, event }, rest: trimmed.slice(end) } };
  }
  const name = METRIC_NAME.exec(trimmed)?.[0];
  if (!name) {
    const word = trimmed.split(/\s+/)[0] ?? '';
    return fail(
      `\`${word}\` is not a metric name. Use a catalog name, a Prometheus metric, or \`posthog:"event"\`.`,
    );
  }
  let rest = trimmed.slice(name.length);
  if (rest.startsWith('{')) {
    const selector = readSelector(rest, 0);
    if (!selector.ok) return selector;
    rest = rest.slice(selector.value.end);
    return {
      ok: true,
      value: { metric: { source: 'prometheus', name, matchers: selector.value.matchers }, rest },
    };
  }
  if (isCatalogName(name)) return { ok: true, value: { metric: { source: 'catalog', name }, rest } };
  return { ok: true, value: { metric: { source: 'prometheus', name, matchers: [] }, rest } };
}

const OPS: [RegExp, Op][] = [
  [/^>=/, '>='],
  [/^<=/, '<='],
  [/^>/, '>'],
  [/^</, '<'],
  [/^at\s+least\b/i, '>='],
  [/^at\s+most\b/i, '<='],
];

const SUFFIX: Record<string, number> = { k: 1e3, m: 1e6, b: 1e9 };

/** `200`, `1,500`, `1.5k`, `2m`, `12.5%` → the number compared (a percentage as a ratio). */
export function parseNumber(word: string): { value: number; unit?: '%' } | null {
  const m = /^(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)([kmb%])?$/i.exec(word);
  if (!m) return null;
  const base = Number(m[1]!.replace(/,/g, ''));
  const suffix = m[2]?.toLowerCase();
  if (suffix === '%') return { value: base / 100, unit: '%' };
  const value = suffix ? base * SUFFIX[suffix]! : base;
  return Number.isFinite(value) ? { value } : null;
}

/** Days in each rolling window (a month is 30 days, as PromQL ranges are fixed). */
const WINDOW_DAYS: Record<WindowUnit, number> = { day: 1, week: 7, month: 30 };

/** Parses `<metric> <op> <number> [per day|week|month] [within <N> days|weeks]` (PRODUCT.md). */
export function parseExpectation(
  input: string,
  isCatalogName: (name: string) => boolean = () => false,
): ParseResult<Expectation> {
  const split = splitGuards(input.trim().replace(/\s+/g, ' '));
  const text = split.base;
  if (!text) return fail('The expectation is empty.');
  const metricResult = parseMetric(text, isCatalogName);
  if (!metricResult.ok) return metricResult;
  const { metric } = metricResult.value;
  let rest = metricResult.value.rest.trim();

  const opMatch = OPS.find(([re]) => re.test(rest));
  if (!opMatch) {
    const got = rest.split(' ')[0];
    return fail(
      got
        ? `\`${got}\` is not a comparison. Use \`>=\`, \`>\`, \`<=\`, \`<\`, \`at least\` or \`at most\`.`
        : 'The expectation needs a comparison and a target after the metric.',
    );
  }
  const [opRe, op] = opMatch;
  rest = rest.replace(opRe, '').trim();

  const [numberWord = '', ...after] = rest.split(' ');
  const number = parseNumber(numberWord);
  if (!number) {
    return fail(
      numberWord
        ? `\`${numberWord}\` is not a number. Write the target as \`200\`, \`1.5k\`, \`2m\` or \`12.5%\`.`
        : 'The expectation needs a target number after the comparison.',
    );
  }

  let window: WindowUnit = 'week';
  let deadlineDays = 30;
  let words = after;
  if (words[0]?.toLowerCase() === 'per') {
    const unit = words[1]?.toLowerCase().replace(/s$/, '');
    if (unit !== 'day' && unit !== 'week' && unit !== 'month') {
      return fail(
        `\`per ${words[1] ?? ''}\` is not a window. Use \`per day\`, \`per week\` or \`per month\`.`,
      );
    }
    window = unit;
    words = words.slice(2);
  }
  if (words[0]?.toLowerCase() === 'within') {
    const n = Number(words[1]);
    const unit = words[2]?.toLowerCase().replace(/s$/, '');
    if (!Number.isInteger(n) || n <= 0 || (unit !== 'day' && unit !== 'week')) {
      return fail(
        `\`within ${words.slice(1, 3).join(' ')}\` is not a deadline. Write \`within 30 days\` or \`within 6 weeks\`.`,
      );
    }
    deadlineDays = unit === 'week' ? n * 7 : n;
    if (deadlineDays > MAX_DEADLINE_DAYS)
      return fail(`A deadline of ${deadlineDays} days is over a year away.`);
    words = words.slice(3);
  }
  if (words.length > 0) {
    return fail(`I did not understand \`${words.join(' ')}\` at the end of the expectation.`);
  }
  const windowDays = WINDOW_DAYS[window];
  if (windowDays > deadlineDays) {
    return fail(
      `A \`per ${window}\` window (${windowDays} days) cannot fit before a deadline ${deadlineDays} days after launch: make the deadline at least ${windowDays} days (\`per ${window} within ${Math.max(30, windowDays)} days\`) or the window shorter (\`per day within ${deadlineDays} days\`).`,
    );
  }
  const expectation: Expectation = {
    metric,
    op,
    target: number.value,
    window,
    deadlineDays,
    text: '',
  };
  if (number.unit) expectation.unit = number.unit;
  expectation.text = formatExpectation(expectation);
  if (split.clauses.length > 0) {
    // Guardrails do not change the expectation's text: checks keep their history.
    const guards = parseGuards(split.clauses, isCatalogName);
    if (!guards.ok) return guards;
    expectation.guards = guards.value;
  }
  return { ok: true, value: expectation };
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The metric as written in the grammar (and, for Prometheus, as a valid, escaped selector). */
export function formatMetric(metric: MetricRef): string {
  switch (metric.source) {
    case 'posthog':
    case 'honeycomb':
      return `${metric.source}:${quote(metric.event)}`;
    case 'catalog':
      return metric.name;
    case 'prometheus':
      return metric.matchers.length === 0
        ? metric.name
        : `${metric.name}{${metric.matchers.map((m) => `${m.name}${m.op}${quote(m.value)}`).join(',')}}`;
  }
}

export function formatTarget(expectation: Pick<Expectation, 'target' | 'unit'>): string {
  if (expectation.unit === '%') return `${Number((expectation.target * 100).toPrecision(12))}%`;
  return String(expectation.target);
}

/** The canonical written form: `bulk_export_total >= 200 per week within 30 days`. */
export function formatExpectation(e: Expectation): string {
  return `${formatMetric(e.metric)} ${e.op} ${formatTarget(e)} per ${e.window} within ${e.deadlineDays} days`;
}

const OP_WORDS: Record<Op, string> = {
  '>=': 'at least',
  '>': 'more than',
  '<=': 'at most',
  '<': 'less than',
};

/** The expectation in plain words, for cards: "at least 200 bulk_export_total per week, 30 days after launch". */
export function describeExpectation(e: Expectation): string {
  return `${OP_WORDS[e.op]} ${formatTarget(e)} \`${formatMetric(e.metric)}\` per ${e.window}, judged ${e.deadlineDays} days after launch`;
}
