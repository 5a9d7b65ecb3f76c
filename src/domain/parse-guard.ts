/**
 * The grammar of guardrails (PRODUCT.md, "Guardrails and pausing a rollout"):
 * `guard <metric> <op> <number> [over <duration>]`, after an expectation (any number of them) or
 * after `/donedone guard F-3` (then also `[auto-pause]`). Pure: no telemetry, no clock.
 */
import type { Guard, Op } from './model';
import { formatMetric, formatTarget, type ParseResult, parseMetric, parseNumber } from './parse-expectation';

/** A correct example, shown with every guard error. */
export const GUARD_EXAMPLE = 'guard checkout_error_ratio < 2% over 3h';
export const DEFAULT_GUARD_OVER_SECONDS = 3600;
/** Five minutes is the evaluation interval: a shorter window would skip data between rounds. */
export const MIN_GUARD_OVER_SECONDS = 5 * 60;
export const MAX_GUARD_OVER_SECONDS = 7 * 86_400;
export const MAX_GUARDS = 10;

const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };

const OPS: [RegExp, Op][] = [
  [/^>=/, '>='],
  [/^<=/, '<='],
  [/^>/, '>'],
  [/^</, '<'],
  [/^at\s+least\b/i, '>='],
  [/^at\s+most\b/i, '<='],
];

function fail<T>(message: string, example = GUARD_EXAMPLE): ParseResult<T> {
  return { ok: false, error: `${message}\nExample: \`${example}\`` };
}

/**
 * Splits `<expectation> guard <g1> guard <g2>` at each word `guard` outside quotes and braces.
 * Returns the expectation's text and each guard's text (without the word `guard`).
 */
export function splitGuards(text: string): { base: string; clauses: string[] } {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if (
      depth === 0 &&
      (i === 0 || /\s/.test(text[i - 1]!)) &&
      /^guard(\s|$)/i.test(text.slice(i, i + 6))
    ) {
      parts.push(text.slice(start, i));
      start = i + 5;
      i += 4;
    }
  }
  parts.push(text.slice(start));
  const [base = '', ...clauses] = parts.map((p) => p.trim());
  return { base, clauses };
}

/** `30m`, `1h`, `3h`, `1d` → seconds, within 5m..7d. */
export function parseGuardOver(text: string): ParseResult<number> {
  const m = /^(\d{1,4})\s*(m|min|mins|minutes?|h|hours?|d|days?)$/i.exec(text.trim());
  if (!m) return fail(`\`over ${text}\` is not a duration: write minutes, hours or days, like \`over 3h\`.`);
  const seconds = Number(m[1]) * UNITS[m[2]!.toLowerCase()[0]!]!;
  if (seconds < MIN_GUARD_OVER_SECONDS)
    return fail(`\`over ${text}\` is too short: a guardrail looks at 5 minutes at least.`);
  if (seconds > MAX_GUARD_OVER_SECONDS)
    return fail(`\`over ${text}\` is too long: a guardrail looks at 7 days at most.`);
  return { ok: true, value: seconds };
}

/** `3h`, `90m`, `1d`: the shortest exact form. */
export function formatOver(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${Math.round(seconds / 60)}m`;
}

/** The canonical written form: `checkout_error_ratio < 2% over 3h`. */
export function formatGuard(guard: Omit<Guard, 'text' | 'autoPause'>): string {
  return `${formatMetric(guard.metric)} ${guard.op} ${formatTarget(guard)} over ${formatOver(guard.overSeconds)}`;
}

/**
 * Parses one guard clause (the text after the word `guard`): `<metric> <op> <number> [over <duration>]`,
 * and `auto-pause` when `allowAutoPause` (the `/donedone guard` command).
 */
export function parseGuard(
  input: string,
  opts: { isCatalogName?: (name: string) => boolean; allowAutoPause?: boolean; example?: string } = {},
): ParseResult<Guard> {
  const example = opts.example ?? GUARD_EXAMPLE;
  const text = input.trim().replace(/\s+/g, ' ');
  if (!text) return fail('`guard` needs a metric, a comparison and a limit.', example);
  const metric = parseMetric(text, opts.isCatalogName);
  if (!metric.ok) return fail(metric.error.split('\nExample:')[0]!, example);
  let rest = metric.value.rest.trim();
  const op = OPS.find(([re]) => re.test(rest));
  if (!op) {
    const got = rest.split(' ')[0];
    return fail(
      got
        ? `\`${got}\` is not a comparison. A guardrail says what must hold: \`<\`, \`<=\`, \`>\` or \`>=\`.`
        : 'The guardrail needs a comparison and a limit after the metric.',
      example,
    );
  }
  rest = rest.replace(op[0], '').trim();
  const [numberWord = '', ...words] = rest.split(' ').filter(Boolean);
  const number = parseNumber(numberWord);
  if (!number) {
    return fail(
      numberWord
        ? `\`${numberWord}\` is not a number. Write the limit as \`0.5\`, \`1.5k\` or \`2%\`.`
        : 'The guardrail needs a limit after the comparison.',
      example,
    );
  }
  let overSeconds = DEFAULT_GUARD_OVER_SECONDS;
  let autoPause = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!.toLowerCase();
    if (word === 'over') {
      const over = parseGuardOver(words[i + 1] ?? '');
      if (!over.ok) return fail(over.error.split('\nExample:')[0]!, example);
      overSeconds = over.value;
      i++;
    } else if (word === 'auto-pause' && opts.allowAutoPause) {
      autoPause = true;
    } else if (word === 'per' || word === 'within') {
      return fail(
        `A guardrail has no \`${word}\`: it is judged every 5 minutes over \`over <duration>\` (default 1h).`,
        example,
      );
    } else {
      return fail(
        `I did not understand \`${words.slice(i).join(' ')}\` at the end of the guardrail.${
          word === 'auto-pause' ? ' `auto-pause` is added with `/donedone guard F-3 … auto-pause`.' : ''
        }`,
        example,
      );
    }
  }
  const guard: Guard = {
    metric: metric.value.metric,
    op: op[1],
    target: number.value,
    overSeconds,
    text: '',
  };
  if (number.unit) guard.unit = number.unit;
  guard.text = formatGuard(guard);
  if (autoPause) guard.autoPause = true;
  return { ok: true, value: guard };
}

/** Parses every clause; the first bad one is answered, naming which. */
export function parseGuards(
  clauses: string[],
  isCatalogName?: (name: string) => boolean,
): ParseResult<Guard[]> {
  if (clauses.length > MAX_GUARDS) return fail(`At most ${MAX_GUARDS} guardrails per feature.`);
  const guards: Guard[] = [];
  for (const clause of clauses) {
    const parsed = parseGuard(clause, isCatalogName ? { isCatalogName } : {});
    if (!parsed.ok) {
      return {
        ok: false,
        error: `In \`guard ${clause.slice(0, 100)}\`: ${parsed.error}`,
      };
    }
    if (!guards.some((g) => g.text === parsed.value.text)) guards.push(parsed.value);
  }
  return { ok: true, value: guards };
}
