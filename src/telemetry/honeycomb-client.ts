import { DateTime, type Duration } from 'luxon';
import createClient from 'openapi-fetch';
import type { MetricRef } from '../domain/model';
import type { components, paths } from './generated/honeycomb';
import { HOUR_MS, hourFrom, hourHolding, launchHours, nothingJudged } from './launch-hours';
import { createResilientFetch, type ResilientFetchOptions, type TelemetryLog } from './resilient-fetch';
import type { SharedLimitsStore } from './shared-limits';
import {
  type FirstUseRange,
  type FirstUseSearch,
  guardCall,
  type Measurement,
  type Series,
  TelemetryQueryError,
  type TelemetrySource,
  TelemetryUnavailableError,
} from './types';

type QuerySpec = components['schemas']['QuerySpec'];
type QueryResult = components['schemas']['QueryResult'];
type HoneycombRef = Extract<MetricRef, { source: 'honeycomb' }>;

export interface HoneycombClientOptions {
  /** Default `https://api.honeycomb.io` (EU: `https://api.eu1.honeycomb.io`). */
  baseUrl?: string;
  /** Needs the "Manage Queries and Columns" and "Run Queries" permissions. */
  apiKey: string;
  /** Dataset slug, or `__all__` for the whole environment. */
  dataset: string;
  /** The column holding the event name that `honeycomb:"event name"` refers to. Default `name`. */
  eventColumn?: string;
  /** The transport under the resilience layer (default: global fetch). */
  fetch?: typeof fetch;
  log?: TelemetryLog;
  /** Used to wait between polls of a query result, and between retries. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock, for the 7-day limit. Default: the system clock. */
  now?: () => DateTime;
  /** Overrides of the resilience layer (time-out, retries, clock); the vendor's limits are set by `limits`. */
  resilience?: Partial<Omit<ResilientFetchOptions, 'fetch' | 'log' | 'shared' | 'rateLimit'>>;
  /** Redis and the app's key prefix: the limits and the circuit breaker hold across every process. */
  shared?: SharedLimitsStore;
  /** Honeycomb's published limit, overridable for tests. */
  limits?: Partial<HoneycombLimits>;
}

export interface HoneycombLimits {
  /** Query results created a minute (`POST /1/query_results/{dataset}`). Default 10. */
  queryResultsPerMinute: number;
  /** A limit that frees up within this many ms is waited for; longer fails fast. Default 3000. */
  maxWaitMs: number;
}

export const HONEYCOMB_LIMITS: HoneycombLimits = { queryResultsPerMinute: 10, maxWaitMs: 3000 };

const SOURCE = 'honeycomb';
const LIMIT_DAYS = 7;
/** Waits between polls of a query result: short first, then steady. About 40 s in all. */
const POLL_DELAYS_MS = [250, 500, 1000, 2000, 2000, 2000, 3000, 3000, 3000, 3000, 5000, 5000, 5000, 5000];
/** Calculations whose value over a window is the sum of their values over its parts. */
const ADDITIVE_OPS = new Set(['COUNT', 'SUM']);
/** Calculations that are zero, not "no data", when no event matched. */
const ZERO_WHEN_EMPTY = new Set(['COUNT', 'COUNT_DISTINCT', 'SUM', 'CONCURRENCY']);
const MAX_SERIES_POINTS = 1000;
/** Honeycomb's maximum number of breakdown groups. */
const LIST_LIMIT = 1000;
/** Honeycomb's granularity is at least a thousandth of the time range: at most 1000 buckets. */
const MAX_BUCKETS = 1000;
/** How long "seen in the last 7 days" is believed, and "not seen" (the first event may come soon). */
const SEEN_TTL_MS = 10 * 60_000;
const UNSEEN_TTL_MS = 60_000;
const SEEN_CACHE_SIZE = 1000;
/** Kept off the 7-day edge, so that a query sent now still starts inside the limit when it runs. */
const EDGE_MARGIN_MINUTES = 5;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How a window reads in the expectation grammar, for messages. */
function describeWindow(window: Duration): string {
  const days = window.as('days');
  if (window.months === 1 || (days >= 28 && days <= 31)) return 'a per month window';
  if (days === 7) return 'a per week window';
  if (days === 1) return 'a per day window';
  return `a ${Number(days.toFixed(2))}-day window`;
}

function calculationKey(calc: { op: string; column?: string }): string {
  return calc.column ? `${calc.op}(${calc.column})` : calc.op;
}

function numberIn(data: Record<string, unknown> | undefined, key: string): number | null {
  if (!data) return null;
  const direct = data[key];
  if (typeof direct === 'number') return direct;
  // Keys are the calculation as Honeycomb writes it; if that differs, take the only number there.
  const numbers = Object.values(data).filter((v): v is number => typeof v === 'number');
  return numbers.length === 1 ? (numbers[0] ?? null) : null;
}

/**
 * Honeycomb's Query Data API as a TelemetrySource: create a query, run it as a query result,
 * poll until complete. Query results only reach 7 days back, so longer windows are refused
 * with a message the user can act on.
 */
export class HoneycombClient implements TelemetrySource {
  readonly name = 'honeycomb' as const;
  private readonly api: ReturnType<typeof createClient<paths>>;
  private readonly apiKey: string;
  private readonly dataset: string;
  private readonly eventColumn: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => DateTime;
  private readonly seenCache = new Map<string, { until: number; seen: Promise<boolean> }>();

  constructor(options: HoneycombClientOptions) {
    if (!options.apiKey) throw new Error('HoneycombClient: apiKey is required (HONEYCOMB_API_KEY)');
    if (!options.dataset) throw new Error('HoneycombClient: dataset is required (HONEYCOMB_DATASET)');
    this.apiKey = options.apiKey;
    this.dataset = options.dataset;
    this.eventColumn = options.eventColumn ?? 'name';
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? (() => DateTime.utc());
    const limits = { ...HONEYCOMB_LIMITS, ...options.limits };
    const resilientFetch = createResilientFetch({
      source: SOURCE,
      sleep: this.sleep,
      ...options.resilience,
      // Honeycomb's published limit: 10 query results created a minute (other calls are freer),
      // for every donedone process together when `shared` is given. A 429's RateLimit reset
      // pauses every process until then.
      rateLimit: {
        windows: [
          {
            points: limits.queryResultsPerMinute,
            durationSec: 60,
            describe: `${limits.queryResultsPerMinute} query results a minute`,
          },
        ],
        maxWaitMs: limits.maxWaitMs,
        appliesTo: (url, method) => method === 'POST' && /^\/1\/query_results\/[^/]+\/?$/.test(url.pathname),
      },
      ...(options.shared ? { shared: options.shared } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    this.api = createClient<paths>({
      baseUrl: (options.baseUrl ?? 'https://api.honeycomb.io').replace(/\/+$/, ''),
      headers: { 'X-Honeycomb-Team': options.apiKey, 'X-Honeycomb-UserAgent': 'donedone' },
      fetch: resilientFetch,
    });
  }

  async valueOver(metric: MetricRef, window: Duration, at: DateTime): Promise<Measurement> {
    const ref = this.honeycombRef(metric);
    const calc = ref.calculation ?? { op: 'COUNT' };
    const from = at.minus(window);
    this.assertWithinLimit(window, from);
    const windowSec = Math.round(window.as('seconds'));
    // Near "now", a relative time_range is what Honeycomb documents for "the last N seconds";
    // absolute times are for windows that ended earlier.
    const nearNow = Math.abs(this.now().diff(at).as('seconds')) < 60;
    const spec: QuerySpec = {
      ...this.selection(ref, calc),
      ...(nearNow
        ? { time_range: windowSec }
        : { start_time: Math.floor(from.toSeconds()), end_time: Math.floor(at.toSeconds()) }),
    };
    const result = await this.run(spec, { disable_series: true });
    const rows = result.data?.results ?? [];
    if (rows.length > 0)
      return { value: numberIn(rows[0]?.data, calculationKey(calc)), query: this.describe(spec) };
    // No rows: a count of events seen this week that had none in the window is 0; otherwise no data.
    const zero = ZERO_WHEN_EMPTY.has(calc.op) && (await this.seen(ref));
    return { value: zero ? 0 : null, query: this.describe(spec) };
  }

  /**
   * One query with `granularity` = `step`; each point sums the buckets of its window. Only
   * additive calculations (COUNT, SUM) can be rolled up like that when the window is longer than
   * the step; for others the window must equal the step.
   */
  async series(
    metric: MetricRef,
    window: Duration,
    start: DateTime,
    end: DateTime,
    step: Duration,
  ): Promise<Series> {
    const ref = this.honeycombRef(metric);
    const calc = ref.calculation ?? { op: 'COUNT' };
    const stepSec = Math.round(step.as('seconds'));
    const windowSec = Math.round(window.as('seconds'));
    if (stepSec <= 0) throw new TelemetryQueryError(SOURCE, 'a series needs a positive step');
    if (windowSec % stepSec !== 0) {
      throw new TelemetryQueryError(SOURCE, 'Honeycomb series need a window that is a whole number of steps');
    }
    if (windowSec !== stepSec && !ADDITIVE_OPS.has(calc.op)) {
      throw new TelemetryQueryError(
        SOURCE,
        `${calculationKey(calc)} over a rolling window cannot be built from Honeycomb's time buckets; use a step equal to the window`,
      );
    }
    const first = start.minus(window);
    this.assertWithinLimit(window, first);
    const pointsCount = Math.floor(end.diff(start).as('seconds') / stepSec) + 1;
    if (pointsCount > MAX_SERIES_POINTS) {
      throw new TelemetryQueryError(
        SOURCE,
        `a series of more than ${MAX_SERIES_POINTS} points was asked for`,
      );
    }
    const startSec = Math.floor(first.toSeconds());
    const endSec = Math.floor(start.toSeconds()) + (pointsCount - 1) * stepSec;
    const spec: QuerySpec = {
      ...this.selection(ref, calc),
      start_time: startSec,
      end_time: endSec,
      granularity: stepSec,
    };
    const result = await this.run(spec, { disable_series: false });
    const key = calculationKey(calc);
    // Buckets by their start, in Unix seconds; [start, start + step).
    const buckets = new Map<number, number>();
    for (const b of result.data?.series ?? []) {
      const t = Math.round(DateTime.fromISO(b.time).toSeconds());
      const v = numberIn(b.data, key);
      if (Number.isFinite(t) && v !== null) buckets.set(t, v);
    }
    if (buckets.size === 0 && (result.data?.results ?? []).length === 0) {
      // Nothing at all: zeros for a count of events seen this week, no data otherwise.
      if (!ZERO_WHEN_EMPTY.has(calc.op) || !(await this.seen(ref))) {
        return { points: [], query: this.describe(spec) };
      }
    }
    const perWindow = windowSec / stepSec;
    const points = Array.from({ length: pointsCount }, (_, k) => {
      const atSec = Math.floor(start.toSeconds()) + k * stepSec;
      let value = 0;
      for (let j = 1; j <= perWindow; j++) value += buckets.get(atSec - j * stepSec) ?? 0;
      return { at: start.plus({ seconds: k * stepSec }), value };
    });
    return { points, query: this.describe(spec) };
  }

  /**
   * Whether the events were seen in the last 7 days: a COUNT over that range. (The columns API
   * only says a column exists, not that any event carries this name.)
   */
  async exists(metric: MetricRef, _at: DateTime): Promise<boolean> {
    const ref = this.honeycombRef(metric);
    const seen = this.countThisWeek(ref);
    this.remember(ref, seen);
    return seen;
  }

  private async countThisWeek(ref: HoneycombRef): Promise<boolean> {
    const spec: QuerySpec = {
      ...this.selection(ref, { op: 'COUNT' }),
      time_range: LIMIT_DAYS * 86_400,
    };
    const result = await this.run(spec, { disable_series: true });
    return (numberIn(result.data?.results?.[0]?.data, 'COUNT') ?? 0) > 0;
  }

  /**
   * A COUNT in buckets of one hour over the whole launch-anchored hours of `[from, to)` that
   * are still inside Honeycomb's 7 days; what lies before that is reported `unsearchable`.
   * Buckets need not line up with the launch's hours: when the first bucket with events
   * straddles two of them, one more COUNT over the earlier hour says which.
   */
  async firstUseAfter(metric: MetricRef, range: FirstUseRange): Promise<FirstUseSearch> {
    const ref = this.honeycombRef(metric);
    const span = launchHours(range);
    if (span.hours === 0) return nothingJudged(range);
    const limit = hourFrom(
      range.launch,
      this.now().minus({ days: LIMIT_DAYS }).plus({ minutes: EDGE_MARGIN_MINUTES }),
    );
    const start = limit > span.start ? DateTime.min(limit, span.end) : span.start;
    const unsearchable = start > span.start ? { unsearchable: { from: range.from.toUTC(), to: start } } : {};
    const selection = this.selection(ref, { op: 'COUNT' });
    const chunkMs = MAX_BUCKETS * HOUR_MS;
    for (let from = start.toMillis(); from < span.end.toMillis(); from += chunkMs) {
      const to = Math.min(from + chunkMs, span.end.toMillis());
      const spec: QuerySpec = {
        ...selection,
        start_time: Math.floor(from / 1000),
        end_time: Math.floor(to / 1000),
        granularity: Math.min(HOUR_MS, to - from) / 1000,
      };
      const result = await this.run(spec, { disable_series: false });
      const used = (result.data?.series ?? [])
        .filter((b) => (numberIn(b.data, 'COUNT') ?? 0) > 0)
        .map((b) => DateTime.fromISO(b.time, { zone: 'utc' }).toMillis())
        .filter((t) => Number.isFinite(t));
      if (used.length === 0) continue;
      // The bucket [t, t + granularity) holds the first events; none came before it.
      const t = DateTime.fromMillis(Math.max(from, Math.min(...used)), { zone: 'utc' });
      const bucketEnd = Math.min(Math.min(...used) + (spec.granularity ?? 0) * 1000, to);
      const hour = hourHolding(range.launch, t);
      const hourEnd = hour.plus({ milliseconds: HOUR_MS });
      let at = hour;
      if (bucketEnd > hourEnd.toMillis() && !(await this.anyBetween(selection, hour, hourEnd))) at = hourEnd;
      return { at, scannedTo: at.plus({ milliseconds: HOUR_MS }), ...unsearchable };
    }
    return { at: null, scannedTo: span.end, ...unsearchable };
  }

  private async anyBetween(selection: QuerySpec, from: DateTime, to: DateTime): Promise<boolean> {
    const spec: QuerySpec = {
      ...selection,
      start_time: Math.floor(from.toSeconds()),
      end_time: Math.floor(to.toSeconds()),
    };
    const result = await this.run(spec, { disable_series: true });
    return (numberIn(result.data?.results?.[0]?.data, 'COUNT') ?? 0) > 0;
  }

  /** Whether events of this metric were seen in the last 7 days, believed for a while. */
  private seen(ref: HoneycombRef): Promise<boolean> {
    const key = this.seenKey(ref);
    const cached = this.seenCache.get(key);
    if (cached && cached.until > this.now().toMillis()) return cached.seen;
    const seen = this.countThisWeek(ref);
    this.remember(ref, seen);
    return seen;
  }

  private remember(ref: HoneycombRef, seen: Promise<boolean>): void {
    const key = this.seenKey(ref);
    if (this.seenCache.size >= SEEN_CACHE_SIZE) this.seenCache.clear();
    const entry = { until: this.now().toMillis() + UNSEEN_TTL_MS, seen };
    this.seenCache.set(key, entry);
    seen.then(
      (yes) => {
        if (yes) entry.until = this.now().toMillis() + SEEN_TTL_MS;
      },
      () => {
        if (this.seenCache.get(key) === entry) this.seenCache.delete(key);
      },
    );
  }

  private seenKey(ref: HoneycombRef): string {
    return JSON.stringify([ref.event, ref.filters ?? []]);
  }

  /**
   * The event names seen in the last 7 days, most frequent first: a COUNT broken down by the
   * event column (the columns API lists columns, not the values users name in expectations).
   */
  async list(search?: string): Promise<string[]> {
    const spec: QuerySpec = {
      calculations: [{ op: 'COUNT' }],
      breakdowns: [this.eventColumn],
      filters: search
        ? [{ column: this.eventColumn, op: 'contains', value: search }]
        : [{ column: this.eventColumn, op: 'exists' }],
      orders: [{ op: 'COUNT', order: 'descending' }],
      limit: LIST_LIMIT,
      time_range: LIMIT_DAYS * 86_400,
    };
    const result = await this.run(spec, { disable_series: true });
    const names: string[] = [];
    for (const row of result.data?.results ?? []) {
      const name = row.data?.[this.eventColumn];
      if (typeof name === 'string' && !names.includes(name)) names.push(name);
    }
    return names;
  }

  private honeycombRef(metric: MetricRef): HoneycombRef {
    if (metric.source !== 'honeycomb') {
      throw new TelemetryQueryError(SOURCE, `Honeycomb cannot measure a ${metric.source} metric`);
    }
    if (metric.event.trim() === '' && (metric.filters ?? []).length === 0) {
      throw new TelemetryQueryError(SOURCE, 'a Honeycomb metric needs an event name or filters');
    }
    return metric;
  }

  private assertWithinLimit(window: Duration, from: DateTime): void {
    const advice = 'Use per week or per day, or a catalog metric from another source.';
    if (window.as('days') > LIMIT_DAYS) {
      throw new TelemetryQueryError(
        SOURCE,
        `Honeycomb answers query results only for the last ${LIMIT_DAYS} days; ${describeWindow(window)} cannot be measured there. ${advice}`,
      );
    }
    // A minute of slack: "the last 7 days" asked a moment ago is still the last 7 days.
    const earliest = this.now().minus({ days: LIMIT_DAYS, minutes: 1 });
    if (from < earliest) {
      throw new TelemetryQueryError(
        SOURCE,
        `Honeycomb answers query results only for the last ${LIMIT_DAYS} days; a window starting ${from.toUTC().toISODate()} cannot be measured there. ${advice}`,
      );
    }
  }

  /** Calculation and filters: the event column equals the event, plus the metric's own filters. */
  private selection(ref: HoneycombRef, calc: { op: string; column?: string }): QuerySpec {
    const filters: NonNullable<QuerySpec['filters']> = [];
    if (ref.event.trim() !== '') filters.push({ column: this.eventColumn, op: '=', value: ref.event });
    for (const f of ref.filters ?? []) {
      filters.push({
        column: f.column,
        op: f.op as components['schemas']['FilterOp'],
        ...(f.value !== undefined ? { value: f.value } : {}),
      });
    }
    return {
      calculations: [
        {
          op: calc.op as components['schemas']['CalculationOp'],
          ...(calc.column ? { column: calc.column } : {}),
        },
      ],
      filters,
      filter_combination: 'AND',
    };
  }

  private describe(spec: QuerySpec): string {
    return `POST /1/queries/${this.dataset} ${JSON.stringify(spec)}`;
  }

  /** Create the query, create a query result, poll it until complete (bounded). */
  private async run(spec: QuerySpec, options: { disable_series: boolean }): Promise<QueryResult> {
    const path = { datasetSlug: this.dataset };
    const created = await this.call(() =>
      this.api.POST('/1/queries/{datasetSlug}', { params: { path }, body: spec }),
    );
    if (!created.data) throw this.errorFor(created.response, created.error);
    const queryId = created.data.id;
    if (typeof queryId !== 'string') throw this.unexpected('a query without an id');

    const started = await this.call(() =>
      this.api.POST('/1/query_results/{datasetSlug}', {
        params: { path },
        body: { query_id: queryId, disable_series: options.disable_series },
      }),
    );
    if (!started.data) throw this.errorFor(started.response, started.error);
    let result = started.data;
    if (typeof result.id !== 'string') throw this.unexpected('a query result without an id');
    const resultId = result.id;

    for (const delay of POLL_DELAYS_MS) {
      if (result.complete === true) return result;
      await this.sleep(delay);
      const polled = await this.call(() =>
        this.api.GET('/1/query_results/{datasetSlug}/{queryResultId}', {
          params: { path: { ...path, queryResultId: resultId } },
        }),
      );
      if (!polled.data) throw this.errorFor(polled.response, polled.error);
      result = polled.data;
    }
    if (result.complete === true) return result;
    throw new TelemetryUnavailableError(
      SOURCE,
      `the query result was not ready after ${POLL_DELAYS_MS.length} polls (about ${Math.round(
        POLL_DELAYS_MS.reduce((a, b) => a + b, 0) / 1000,
      )} s)`,
    );
  }

  private call<T>(run: () => Promise<T>): Promise<T> {
    return guardCall(SOURCE, run, (text) => this.scrub(text));
  }

  private unexpected(what: string): TelemetryUnavailableError {
    return new TelemetryUnavailableError(SOURCE, `unexpected answer: ${what}`);
  }

  private scrub(text: string): string {
    return text.split(this.apiKey).join('***').slice(0, 300);
  }

  private errorFor(response: Response, error: unknown): Error {
    const body = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
    const text = [body.error, body.detail, body.title].find(
      (v): v is string => typeof v === 'string' && v !== '',
    );
    const detail = text ? this.scrub(text) : undefined;
    const status = response.status;
    if (status === 401 || status === 403) {
      return new TelemetryUnavailableError(
        SOURCE,
        `Honeycomb refused the API key (HTTP ${status}); check HONEYCOMB_API_KEY and its "Run Queries" and "Manage Queries and Columns" permissions`,
      );
    }
    if (status === 404) {
      return new TelemetryUnavailableError(
        SOURCE,
        `Honeycomb has no dataset "${this.dataset}" (HTTP 404); check HONEYCOMB_DATASET`,
      );
    }
    if (status === 400 || status === 422) {
      return new TelemetryQueryError(SOURCE, `Honeycomb rejected the query: ${detail ?? `HTTP ${status}`}`);
    }
    return new TelemetryUnavailableError(SOURCE, `HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }
}
