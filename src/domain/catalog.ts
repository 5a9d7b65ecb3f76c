/**
 * The metric catalog: named metrics a team defines once (in `DONEDONE_METRICS_FILE`) and then
 * uses by name in expectations. Pure: validates an already parsed YAML document.
 */
import type { MetricRef } from './model';

export const CATALOG_SOURCES = ['prometheus', 'posthog', 'honeycomb'] as const;
export type CatalogSource = (typeof CATALOG_SOURCES)[number];

/** Honeycomb calculation operators (its query spec's `calculations[].op`). */
export const HONEYCOMB_CALCULATION_OPS = [
  'COUNT',
  'CONCURRENCY',
  'COUNT_DISTINCT',
  'SUM',
  'AVG',
  'MAX',
  'MIN',
  'P001',
  'P01',
  'P05',
  'P10',
  'P20',
  'P25',
  'P50',
  'P75',
  'P80',
  'P90',
  'P95',
  'P99',
  'P999',
  'RATE_AVG',
  'RATE_SUM',
  'RATE_MAX',
] as const;

/** Operators that take no column. */
const COLUMNLESS_OPS = new Set(['COUNT', 'CONCURRENCY']);

/** Honeycomb filter operators with one scalar value, or none (`exists`, `does-not-exist`). */
export const HONEYCOMB_FILTER_OPS = [
  '=',
  '!=',
  '>',
  '>=',
  '<',
  '<=',
  'starts-with',
  'does-not-start-with',
  'ends-with',
  'does-not-end-with',
  'contains',
  'does-not-contain',
  'exists',
  'does-not-exist',
] as const;

const VALUELESS_FILTER_OPS = new Set(['exists', 'does-not-exist']);

export interface HoneycombFilter {
  column: string;
  op: string;
  value?: string | number | boolean;
}

interface CatalogEntryBase {
  /** snake_case, unique in the catalog; what users write in expectations. */
  name: string;
  description: string;
  /** Shown after values, e.g. `exports`, `ms`. */
  unit?: string;
}

export type CatalogEntry =
  | (CatalogEntryBase & {
      source: 'prometheus';
      /** PromQL with `$window` where the range goes, e.g. `sum(increase(exports_total[$window]))`. */
      query: string;
    })
  | (CatalogEntryBase & {
      source: 'posthog';
      event: string;
      /** `count` counts events; `unique_users` counts distinct people. Default `count`. */
      math: 'count' | 'unique_users';
    })
  | (CatalogEntryBase & {
      source: 'honeycomb';
      /** Matched against the client's event column; optional when `filters` select the events. */
      event?: string;
      filters?: HoneycombFilter[];
      /** As written, e.g. `COUNT` or `COUNT_DISTINCT(user.id)`. Default `COUNT`. */
      calculation: string;
    });

export type CatalogResult = { entries: CatalogEntry[] } | { errors: string[] };

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const COMMON_KEYS = ['name', 'description', 'source', 'unit'];
const KEYS_BY_SOURCE: Record<CatalogSource, string[]> = {
  prometheus: [...COMMON_KEYS, 'query'],
  posthog: [...COMMON_KEYS, 'event', 'math'],
  honeycomb: [...COMMON_KEYS, 'event', 'filters', 'calculation'],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * Splits a Honeycomb calculation as written in the catalog (`COUNT`, `P99(duration_ms)`,
 * `COUNT_DISTINCT(user.id)`) into the query spec's `{ op, column }`; an error text when invalid.
 */
export function parseHoneycombCalculation(text: string): { op: string; column?: string } | { error: string } {
  const m = /^\s*([A-Za-z0-9_]+)\s*(?:\(\s*([^()]*?)\s*\))?\s*$/.exec(text);
  if (!m?.[1]) {
    return { error: `calculation "${text}" must look like COUNT or COUNT_DISTINCT(user.id)` };
  }
  const op = m[1].toUpperCase();
  const column = m[2];
  if (!(HONEYCOMB_CALCULATION_OPS as readonly string[]).includes(op)) {
    return { error: `calculation "${text}": ${op} is not one of ${HONEYCOMB_CALCULATION_OPS.join(', ')}` };
  }
  if (COLUMNLESS_OPS.has(op)) {
    if (column) return { error: `calculation "${text}": ${op} takes no column; write ${op}` };
    return { op };
  }
  if (!column) return { error: `calculation "${text}": ${op} needs a column, e.g. ${op}(duration_ms)` };
  return { op, column };
}

function validateFilters(value: unknown, problems: string[]): HoneycombFilter[] | undefined {
  if (!Array.isArray(value)) {
    problems.push('filters must be a list of { column, op, value }');
    return undefined;
  }
  const filters: HoneycombFilter[] = [];
  value.forEach((raw, i) => {
    if (!isRecord(raw)) {
      problems.push(`filters[${i}] must be a mapping with column, op and value`);
      return;
    }
    const { column, op, value: filterValue } = raw;
    if (!nonEmptyString(column)) problems.push(`filters[${i}]: column is required`);
    if (typeof op !== 'string' || !(HONEYCOMB_FILTER_OPS as readonly string[]).includes(op)) {
      problems.push(`filters[${i}]: op must be one of ${HONEYCOMB_FILTER_OPS.join(' ')}`);
      return;
    }
    if (VALUELESS_FILTER_OPS.has(op)) {
      if (filterValue !== undefined) problems.push(`filters[${i}]: ${op} takes no value`);
      if (nonEmptyString(column)) filters.push({ column, op });
      return;
    }
    if (
      typeof filterValue !== 'string' &&
      typeof filterValue !== 'number' &&
      typeof filterValue !== 'boolean'
    ) {
      problems.push(`filters[${i}]: value must be a string, number or boolean`);
      return;
    }
    if (nonEmptyString(column)) filters.push({ column, op, value: filterValue });
  });
  return filters;
}

/** Validates one entry; the problems found, without the entry's label. */
function validateEntry(raw: Record<string, unknown>, problems: string[]): CatalogEntry | undefined {
  const { name, description, source, unit } = raw;
  if (!nonEmptyString(name)) problems.push('name is required');
  else if (!SNAKE_CASE.test(name)) problems.push('name must be snake_case, like weekly_exports');
  if (!nonEmptyString(description)) problems.push('description is required: say what the number means');
  if (unit !== undefined && !nonEmptyString(unit)) problems.push('unit must be a word, like exports or ms');
  if (typeof source !== 'string' || !(CATALOG_SOURCES as readonly string[]).includes(source)) {
    problems.push(`source must be one of ${CATALOG_SOURCES.join(', ')}`);
    return undefined;
  }
  const src = source as CatalogSource;
  const known = KEYS_BY_SOURCE[src];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key))
      problems.push(`"${key}" is not a field of a ${src} metric (fields: ${known.join(', ')})`);
  }
  const base = {
    name: String(name),
    description: String(description),
    ...(typeof unit === 'string' ? { unit } : {}),
  };

  switch (src) {
    case 'prometheus': {
      const { query } = raw;
      if (!nonEmptyString(query)) {
        problems.push('query is required: PromQL with $window where the range goes');
        return undefined;
      }
      if (!query.includes('$window')) {
        problems.push(
          'query must contain $window where the range goes, e.g. sum(increase(exports_total[$window]))',
        );
      }
      return { ...base, source: src, query };
    }
    case 'posthog': {
      const { event, math } = raw;
      if (!nonEmptyString(event)) problems.push('event is required: the PostHog event name');
      if (math !== undefined && math !== 'count' && math !== 'unique_users') {
        problems.push('math must be count or unique_users');
      }
      return {
        ...base,
        source: src,
        event: String(event),
        math: math === 'unique_users' ? 'unique_users' : 'count',
      };
    }
    case 'honeycomb': {
      const { event, filters, calculation } = raw;
      if (event !== undefined && !nonEmptyString(event)) problems.push('event must be a non-empty string');
      const checkedFilters = filters === undefined ? undefined : validateFilters(filters, problems);
      if (
        event === undefined &&
        (filters === undefined || (Array.isArray(filters) && filters.length === 0))
      ) {
        problems.push('event or filters is required: which events to measure');
      }
      let calc = 'COUNT';
      if (calculation !== undefined) {
        if (typeof calculation !== 'string') {
          problems.push('calculation must be text, like COUNT or COUNT_DISTINCT(user.id)');
        } else {
          const parsed = parseHoneycombCalculation(calculation);
          if ('error' in parsed) problems.push(parsed.error);
          calc = calculation.trim();
        }
      }
      return {
        ...base,
        source: src,
        ...(typeof event === 'string' ? { event } : {}),
        ...(checkedFilters ? { filters: checkedFilters } : {}),
        calculation: calc,
      };
    }
  }
}

/**
 * Validates a parsed catalog document: `{ metrics: [ { name, description, source, … }, … ] }`.
 * Either every entry is valid, or every problem is listed, each naming its entry.
 */
export function validateCatalog(doc: unknown): CatalogResult {
  if (!isRecord(doc) || !('metrics' in doc)) {
    return {
      errors: ['the catalog must be a mapping with a "metrics" list, e.g. metrics: [ { name: …, … } ]'],
    };
  }
  const { metrics } = doc;
  if (!Array.isArray(metrics)) return { errors: ['"metrics" must be a list of metric entries'] };

  const errors: string[] = [];
  const entries: CatalogEntry[] = [];
  const seen = new Map<string, number>();
  metrics.forEach((raw, i) => {
    if (!isRecord(raw)) {
      errors.push(`metrics[${i}]: must be a mapping with name, description, source`);
      return;
    }
    const label = nonEmptyString(raw.name) ? `metrics[${i}] "${raw.name}"` : `metrics[${i}]`;
    const problems: string[] = [];
    const entry = validateEntry(raw, problems);
    if (nonEmptyString(raw.name)) {
      const first = seen.get(raw.name);
      if (first !== undefined) problems.push(`name is already used by metrics[${first}]`);
      else seen.set(raw.name, i);
    }
    for (const problem of problems) errors.push(`${label}: ${problem}`);
    if (problems.length === 0 && entry) entries.push(entry);
  });
  return errors.length > 0 ? { errors } : { entries };
}

/** The catalog entry of that name, or undefined. */
export function findCatalogEntry(entries: readonly CatalogEntry[], name: string): CatalogEntry | undefined {
  return entries.find((e) => e.name === name);
}

/** The MetricRef a catalog entry resolves to, for a telemetry client. */
export function catalogMetricRef(entry: CatalogEntry): MetricRef {
  switch (entry.source) {
    case 'prometheus':
      return { source: 'prometheus', name: entry.name, matchers: [], promql: entry.query };
    case 'posthog':
      return {
        source: 'posthog',
        event: entry.event,
        math: entry.math === 'unique_users' ? 'unique' : 'total',
      };
    case 'honeycomb': {
      const parsed = parseHoneycombCalculation(entry.calculation);
      // Entries come validated, so `error` means one was built by hand: fall back to Honeycomb's default.
      const calculation = 'error' in parsed ? { op: 'COUNT' } : parsed;
      return {
        source: 'honeycomb',
        // Empty when the filters alone select the events: the client then adds no event filter.
        event: entry.event ?? '',
        calculation,
        ...(entry.filters ? { filters: entry.filters.map((f) => ({ ...f })) } : {}),
      };
    }
  }
}
