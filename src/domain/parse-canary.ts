/**
 * The grammar of a canary: `<metric> <label>=<value> [over <duration>] [lower-is-better]`, as
 * written after `/donedone canary` or given to `GET /api/canary`. Pure: no telemetry, no clock.
 */
import type { ParseResult } from './parse-expectation';

/** A correct example, shown with every grammar error. */
export const CANARY_EXAMPLE = 'checkout_revenue_dollars_total node=canary over 1h';

/** What to compare: the series with `label="value"` against the other values of `label`. */
export interface CanarySpec {
  metric: string;
  label: string;
  value: string;
  /** The window judged, ending now, in seconds. */
  overSeconds: number;
  /** As written or defaulted, e.g. `1h`. */
  over: string;
  /** Higher is better (dollars, successes) unless `lower-is-better` (latency, errors) was written. */
  higherIsBetter: boolean;
}

export const DEFAULT_OVER = '1h';
/** Below 5 minutes there are too few per-minute points to judge; see DEFAULT_MIN_POINTS. */
export const MIN_OVER_SECONDS = 5 * 60;
/** 7 days at one point a minute is 10,081 points a series, under Prometheus' 11,000 a query. */
export const MAX_OVER_SECONDS = 7 * 86_400;
export const MAX_VALUE_LENGTH = 200;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };

function fail<T>(message: string): ParseResult<T> {
  return { ok: false, error: `${message}\nExample: \`/donedone canary ${CANARY_EXAMPLE}\`` };
}

/**
 * Whether a canary's metric is counted (a counter, or a histogram's `_sum` and `_count`): its
 * per-minute rate is compared. Anything else is a gauge (a ratio, a latency: the guard form),
 * averaged each minute.
 */
export function isRated(metric: string): boolean {
  return /_(total|count|sum|bucket)$/.test(metric);
}

/** Whether `name` is a Prometheus metric name. */
export function isMetricName(name: string): boolean {
  return METRIC_NAME.test(name) && name.length <= 200;
}

/** A label a canary can be split by: a Prometheus label name, not a reserved `__` one. */
export function checkLabelName(name: string): string | null {
  if (!LABEL_NAME.test(name) || name.length > 100) {
    return `\`${name}\` is not a label name: use letters, digits and \`_\`, like \`node\` or \`pod\`.`;
  }
  if (name.startsWith('__')) return `\`${name}\` is reserved by Prometheus; name a label such as \`node\`.`;
  return null;
}

/** `30m`, `1h`, `2h`, `1d` → seconds, within 5m..7d; an error in words otherwise. */
export function parseOver(text: string): ParseResult<number> {
  const m = /^(\d{1,4})([mhd])$/i.exec(text.trim());
  if (!m)
    return fail(
      `\`${text}\` is not a duration: write minutes, hours or days, like \`30m\`, \`1h\` or \`2d\`.`,
    );
  const seconds = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  if (seconds < MIN_OVER_SECONDS) return fail(`\`over ${text}\` is too short: judge at least 5 minutes.`);
  if (seconds > MAX_OVER_SECONDS) return fail(`\`over ${text}\` is too long: judge at most 7 days.`);
  return { ok: true, value: seconds };
}

/** Reads a double-quoted value at `text[0] === '"'`, with `\"` and `\\` escapes. */
function readQuoted(text: string): { value: string; rest: string } | null {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) return null;
      value += next;
      i++;
    } else if (c === '"') {
      return { value, rest: text.slice(i + 1) };
    } else {
      value += c;
    }
  }
  return null;
}

export interface CanaryParts {
  metric: string;
  label: string;
  value: string;
  over?: string;
  higherIsBetter?: boolean;
}

/** Validates the parts of a canary however they arrived (command text or query parameters). */
export function canarySpecFrom(parts: CanaryParts): ParseResult<CanarySpec> {
  if (!parts.metric) return fail('Name the metric to compare.');
  if (!isMetricName(parts.metric)) {
    return fail(
      `\`${parts.metric}\` is not a Prometheus metric name: use letters, digits, \`_\` and \`:\`, not starting with a digit.`,
    );
  }
  if (!parts.label) return fail('Name the label that tells the canary apart, like `node=canary`.');
  const labelError = checkLabelName(parts.label);
  if (labelError) return fail(labelError);
  if (!parts.value)
    return fail(`Give the canary's value of \`${parts.label}\`, like \`${parts.label}=canary\`.`);
  if (parts.value.length > MAX_VALUE_LENGTH) {
    return fail(`The value of \`${parts.label}\` is longer than ${MAX_VALUE_LENGTH} characters.`);
  }
  if ([...parts.value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return fail(`The value of \`${parts.label}\` contains control characters.`);
  }
  const over = parts.over ?? DEFAULT_OVER;
  const seconds = parseOver(over);
  if (!seconds.ok) return seconds;
  return {
    ok: true,
    value: {
      metric: parts.metric,
      label: parts.label,
      value: parts.value,
      overSeconds: seconds.value,
      over: over.toLowerCase(),
      higherIsBetter: parts.higherIsBetter ?? true,
    },
  };
}

/**
 * Parses `<metric> <label>=<value> [over <duration>] [lower-is-better|higher-is-better]`. The value
 * may be double-quoted (`pod="web 2"`). `over` and the direction may come in either order.
 */
export function parseCanarySpec(input: string): ParseResult<CanarySpec> {
  const text = input.trim();
  if (!text) return fail('`canary` needs a metric and a label, like `node=canary`.');
  const metric = /^\S+/.exec(text)![0];
  if (metric.includes('{') || metric.includes('=')) {
    return fail(
      `Write the metric and the label apart, without braces: \`${CANARY_EXAMPLE}\`; the canary is compared with every other value of the label.`,
    );
  }
  if (!isMetricName(metric)) {
    return fail(
      `\`${metric}\` is not a Prometheus metric name: use letters, digits, \`_\` and \`:\`, not starting with a digit.`,
    );
  }
  let rest = text.slice(metric.length).trimStart();
  const labelMatch = /^([^\s=]+)\s*=\s*/.exec(rest);
  if (!labelMatch) {
    const word = /^\S*/.exec(rest)![0];
    return fail(
      word
        ? `\`${word}\` is not a label and value: write it as \`node=canary\`.`
        : 'Say which series is the canary, with a label and value like `node=canary`.',
    );
  }
  const label = labelMatch[1]!;
  const labelError = checkLabelName(label);
  if (labelError) return fail(labelError);
  rest = rest.slice(labelMatch[0].length);
  let value: string;
  if (rest.startsWith('"')) {
    const quoted = readQuoted(rest);
    if (!quoted) return fail(`The value of \`${label}\` has no closing quote.`);
    value = quoted.value;
    rest = quoted.rest;
    if (rest && !/^\s/.test(rest)) return fail(`Leave a space after the quoted value of \`${label}\`.`);
  } else {
    value = /^[^\s"]*/.exec(rest)![0];
    rest = rest.slice(value.length);
    if (rest.startsWith('"'))
      return fail(`Quote the whole value of \`${label}\`, like \`${label}="web 2"\`.`);
  }
  if (!value) return fail(`Give the canary's value of \`${label}\`, like \`${label}=canary\`.`);

  let over: string | undefined;
  let higherIsBetter: boolean | undefined;
  const words = rest.trim() ? rest.trim().split(/\s+/) : [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!.toLowerCase();
    if (word === 'over') {
      if (over !== undefined) return fail('Say `over` once.');
      const next = words[i + 1];
      if (!next) return fail('`over` needs a duration, like `over 1h`.');
      over = next;
      i++;
    } else if (word === 'lower-is-better' || word === 'higher-is-better') {
      if (higherIsBetter !== undefined) return fail('Say `lower-is-better` or `higher-is-better` once.');
      higherIsBetter = word === 'higher-is-better';
    } else {
      return fail(
        `I did not understand \`${words[i]}\`: after the label come only \`over <duration>\` and \`lower-is-better\`.`,
      );
    }
  }
  return canarySpecFrom({
    metric,
    label,
    value,
    ...(over !== undefined ? { over } : {}),
    ...(higherIsBetter !== undefined ? { higherIsBetter } : {}),
  });
}

/** The spec written back in its canonical form, e.g. `checkout_revenue_dollars_total node=canary over 1h`. */
export function formatCanarySpec(spec: CanarySpec): string {
  const value = /^[^\s"\\]+$/.test(spec.value)
    ? spec.value
    : `"${spec.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `${spec.metric} ${spec.label}=${value} over ${spec.over}${spec.higherIsBetter ? '' : ' lower-is-better'}`;
}
