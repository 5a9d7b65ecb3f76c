import { DateTime, type Duration } from 'luxon';
import createClient from 'openapi-fetch';
import type { MetricRef } from '../domain/model';
import type { paths } from './generated/posthog';
import { HOUR_MS, hourHolding, launchHours, nothingJudged } from './launch-hours';
import { createResilientFetch, type ResilientFetchOptions, type TelemetryLog } from './resilient-fetch';
import type { SharedLimitsStore } from './shared-limits';
import {
  type FirstUseRange,
  type FirstUseSearch,
  guardCall,
  type Measurement,
  type Series,
  type SeriesPoint,
  TelemetryQueryError,
  type TelemetrySource,
  TelemetryUnavailableError,
} from './types';

export interface PostHogClientOptions {
  /** e.g. `https://us.posthog.com`, `https://eu.posthog.com` or a self-hosted instance. */
  baseUrl: string;
  /** A personal API key with the `query:read` and `event_definition:read` scopes. */
  apiKey: string;
  projectId: string;
  /** The transport under the resilience layer (default: global fetch). */
  fetch?: typeof fetch;
  log?: TelemetryLog;
  /** Overrides of the resilience layer (time-out, retries, clock); the vendor's limits are set by `limits`. */
  resilience?: Partial<Omit<ResilientFetchOptions, 'fetch' | 'log' | 'shared' | 'rateLimit'>>;
  /** Redis and the app's key prefix: the limits and the circuit breaker hold across every process. */
  shared?: SharedLimitsStore;
  /** PostHog's published query limits (per team), overridable for tests. */
  limits?: Partial<PostHogLimits>;
}

/** PostHog's limits for `POST /api/projects/{id}/query/`. */
export interface PostHogLimits {
  /** Default 240. */
  queriesPerMinute: number;
  /** Default 2,400. */
  queriesPerHour: number;
  /** Default 3. */
  concurrentQueries: number;
  /** A limit that frees up within this many ms is waited for; longer fails fast. Default 3000. */
  maxWaitMs: number;
}

export const POSTHOG_LIMITS: PostHogLimits = {
  queriesPerMinute: 240,
  queriesPerHour: 2400,
  concurrentQueries: 3,
  maxWaitMs: 3000,
};

const SOURCE = 'posthog';
/** One series is one query with one aggregate per point: bounded so the query stays reasonable. */
const MAX_SERIES_POINTS = 400;
/** Pages of event definitions read when listing or looking for one name. */
const MAX_DEFINITION_PAGES = 5;
const DEFINITIONS_PAGE_SIZE = 100;
/** How long "PostHog has seen this event" is believed: once seen, an event stays seen. */
const SEEN_TTL_MS = 10 * 60_000;
/** How long "never seen" is believed: the first event may arrive any minute. */
const UNSEEN_TTL_MS = 60_000;
const SEEN_CACHE_SIZE = 1000;
/** Events measured in one batched query (`valuesOver`): 1,000 due at once cost 4 queries. */
export const MAX_BATCH_EVENTS = 250;

const HOGQL_ESCAPES: Record<string, string> = {
  '\b': '\\b',
  '\f': '\\f',
  '\r': '\\r',
  '\n': '\\n',
  '\t': '\\t',
  '\0': '\\0',
  '\x07': '\\a',
  '\v': '\\v',
  '\\': '\\\\',
  "'": "\\'",
};

/**
 * A HogQL string literal for `value`, quoted and escaped as PostHog's own `escape_hogql_string`
 * does. Queries are sent with `{placeholders}` and `values`; this renders the query shown to
 * people, so that it can be pasted into PostHog's SQL editor.
 */
export function escapeHogQLString(value: string): string {
  return `'${Array.from(value, (c) => HOGQL_ESCAPES[c] ?? c).join('')}'`;
}

/** The HogQL with its placeholders replaced by literals: for people to read and reproduce. */
export function renderHogQL(query: string, values: Record<string, string>): string {
  return query.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : escapeHogQLString(value);
  });
}

function posthogRef(metric: MetricRef): Extract<MetricRef, { source: 'posthog' }> {
  if (metric.source !== 'posthog') {
    throw new TelemetryQueryError(SOURCE, `PostHog cannot measure a ${metric.source} metric`);
  }
  if (metric.event.trim() === '') throw new TelemetryQueryError(SOURCE, 'the PostHog event name is empty');
  return metric;
}

function iso(t: DateTime): string {
  return t.toUTC().toISO() ?? t.toUTC().toString();
}

/** The instants `start, start+step, …` up to and including `end`, calendar-aware (months). */
function seriesInstants(start: DateTime, end: DateTime, step: Duration): DateTime[] {
  if (step.as('milliseconds') <= 0) throw new TelemetryQueryError(SOURCE, 'a series needs a positive step');
  const points: DateTime[] = [];
  for (let k = 0; ; k++) {
    const t = start.plus(step.mapUnits((x) => x * k));
    if (t > end) break;
    points.push(t);
    if (points.length > MAX_SERIES_POINTS) {
      throw new TelemetryQueryError(
        SOURCE,
        `a series of more than ${MAX_SERIES_POINTS} points was asked for; use a longer step or a shorter range`,
      );
    }
  }
  return points;
}

/** The query of one event's value over a window, as `valueOver` sends it and people see it. */
function singleQuery(
  ref: Extract<MetricRef, { source: 'posthog' }>,
  window: Duration,
  at: DateTime,
): { query: string; values: Record<string, string> } {
  const aggregate = ref.math === 'unique' ? 'count(DISTINCT person_id)' : 'count()';
  const query =
    `SELECT ${aggregate} FROM events WHERE event = {event}` +
    ' AND timestamp > toDateTime({from}) AND timestamp <= toDateTime({to})';
  return { query, values: { event: ref.event, from: iso(at.minus(window)), to: iso(at) } };
}

function toNumber(cell: unknown): number | null {
  if (cell === null || cell === undefined) return null;
  const n = typeof cell === 'number' ? cell : Number(cell);
  return Number.isFinite(n) ? n : null;
}

/** A HogQL DateTime cell: ISO 8601 (with an offset, or UTC) or ClickHouse's `YYYY-MM-DD hh:mm:ss`. */
function toDateTime(cell: unknown): DateTime | null {
  if (typeof cell !== 'string') return null;
  const iso = DateTime.fromISO(cell, { zone: 'utc', setZone: true });
  if (iso.isValid) return iso.toUTC();
  const sql = DateTime.fromSQL(cell, { zone: 'utc' });
  return sql.isValid ? sql : null;
}

/**
 * PostHog's query API (HogQL over `POST /api/projects/{id}/query/`) and event definitions, as a
 * TelemetrySource. Aggregation happens in PostHog: the client never pulls raw events.
 */
export class PostHogClient implements TelemetrySource {
  readonly name = 'posthog' as const;
  readonly batchSize = MAX_BATCH_EVENTS;
  private readonly api: ReturnType<typeof createClient<paths>>;
  private readonly apiKey: string;
  private readonly projectId: string;
  private readonly clock: () => number;
  private readonly seenCache = new Map<string, { until: number; seen: Promise<boolean> }>();

  constructor(options: PostHogClientOptions) {
    if (!options.baseUrl) throw new Error('PostHogClient: baseUrl is required (POSTHOG_URL)');
    if (!options.apiKey) throw new Error('PostHogClient: apiKey is required (POSTHOG_API_KEY)');
    if (!options.projectId) throw new Error('PostHogClient: projectId is required (POSTHOG_PROJECT_ID)');
    this.apiKey = options.apiKey;
    this.projectId = options.projectId;
    this.clock = options.resilience?.now ?? Date.now;
    const limits = { ...POSTHOG_LIMITS, ...options.limits };
    const resilientFetch = createResilientFetch({
      source: SOURCE,
      ...options.resilience,
      // PostHog's published limits for the query endpoint, per team: 240 a minute AND 2,400 an
      // hour, 3 at once. With `shared` they hold for every donedone process together.
      rateLimit: {
        windows: [
          {
            points: limits.queriesPerMinute,
            durationSec: 60,
            describe: `${limits.queriesPerMinute} queries a minute`,
          },
          {
            points: limits.queriesPerHour,
            durationSec: 3600,
            describe: `${limits.queriesPerHour.toLocaleString('en-US')} queries an hour`,
          },
        ],
        concurrent: limits.concurrentQueries,
        maxWaitMs: limits.maxWaitMs,
        appliesTo: (url, method) => method === 'POST' && url.pathname.endsWith('/query/'),
      },
      ...(options.shared ? { shared: options.shared } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { Authorization: `Bearer ${options.apiKey}` },
      fetch: resilientFetch,
    });
  }

  async valueOver(metric: MetricRef, window: Duration, at: DateTime): Promise<Measurement> {
    const ref = posthogRef(metric);
    const { query, values } = singleQuery(ref, window, at);
    const rows = await this.hogql(query, values);
    return this.measured(ref, toNumber(rows[0]?.[0]), window, at);
  }

  /**
   * Many metrics over the same window and time in one HogQL query, grouped by event (at most
   * `MAX_BATCH_EVENTS` events: callers split larger sets): the answers, in `metrics`' order, are
   * what `valueOver` answers for each, its query included, so a batched check reads the same.
   */
  async valuesOver(metrics: MetricRef[], window: Duration, at: DateTime): Promise<Measurement[]> {
    const refs = metrics.map(posthogRef);
    const events = [...new Set(refs.map((r) => r.event))];
    if (events.length === 0) return [];
    if (events.length > MAX_BATCH_EVENTS) {
      throw new TelemetryQueryError(
        SOURCE,
        `at most ${MAX_BATCH_EVENTS} events a query, not ${events.length}`,
      );
    }
    const unique = refs.some((r) => r.math === 'unique');
    const values: Record<string, string> = { from: iso(at.minus(window)), to: iso(at) };
    events.forEach((e, k) => {
      values[`e${k}`] = e;
    });
    // An explicit LIMIT: HogQL answers 100 rows by default.
    const query =
      `SELECT event, count()${unique ? ', count(DISTINCT person_id)' : ''} FROM events` +
      ` WHERE event IN (${events.map((_, k) => `{e${k}}`).join(', ')})` +
      ' AND timestamp > toDateTime({from}) AND timestamp <= toDateTime({to})' +
      ` GROUP BY event LIMIT ${events.length}`;
    const rows = await this.hogql(query, values);
    const byEvent = new Map<string, unknown[]>();
    for (const row of rows) if (typeof row[0] === 'string') byEvent.set(row[0], row);
    return Promise.all(
      refs.map((ref) => {
        const row = byEvent.get(ref.event);
        // No row: none of that event in the window.
        const value = row ? toNumber(row[ref.math === 'unique' ? 2 : 1]) : 0;
        return this.measured(ref, value, window, at);
      }),
    );
  }

  /** A measured value as people see it: their own event's query, and `no data` for an event never seen. */
  private async measured(
    ref: Extract<MetricRef, { source: 'posthog' }>,
    value: number | null,
    window: Duration,
    at: DateTime,
  ): Promise<Measurement> {
    const { query, values } = singleQuery(ref, window, at);
    // None in the window is 0 only for an event PostHog has seen: otherwise there is no data.
    if (value === 0 && !(await this.seen(ref.event)))
      return { value: null, query: renderHogQL(query, values) };
    return { value, query: renderHogQL(query, values) };
  }

  /**
   * One HogQL query with one conditional aggregate per point, each over its own window
   * `(t - window, t]`, so rolling windows (and distinct users) are exact and the events are
   * scanned once.
   */
  async series(
    metric: MetricRef,
    window: Duration,
    start: DateTime,
    end: DateTime,
    step: Duration,
  ): Promise<Series> {
    const ref = posthogRef(metric);
    const instants = seriesInstants(start, end, step);
    if (instants.length === 0) return { points: [], query: '' };
    const values: Record<string, string> = { event: ref.event };
    const columns = instants.map((t, k) => {
      values[`f${k}`] = iso(t.minus(window));
      values[`t${k}`] = iso(t);
      const inWindow = `timestamp > toDateTime({f${k}}) AND timestamp <= toDateTime({t${k}})`;
      return ref.math === 'unique' ? `uniqExactIf(person_id, ${inWindow})` : `countIf(${inWindow})`;
    });
    values.from = values.f0 ?? '';
    values.to = values[`t${instants.length - 1}`] ?? '';
    const query =
      `SELECT ${columns.join(', ')} FROM events WHERE event = {event}` +
      ' AND timestamp > toDateTime({from}) AND timestamp <= toDateTime({to})';
    const rows = await this.hogql(query, values);
    const row = rows[0] ?? [];
    const points: SeriesPoint[] = instants.map((at, k) => ({ at, value: toNumber(row[k]) ?? 0 }));
    // An event never seen has no data at any point (as a Prometheus series that does not exist).
    if (points.every((p) => p.value === 0) && !(await this.seen(ref.event))) {
      return { points: [], query: renderHogQL(query, values) };
    }
    return { points, query: renderHogQL(query, values) };
  }

  /** Whether PostHog has ever seen the event (its event definitions, or one event of that name). */
  async exists(metric: MetricRef, _at: DateTime): Promise<boolean> {
    return this.seen(posthogRef(metric).event);
  }

  /**
   * The earliest event in the whole launch-anchored hours of `[from, to)`: one HogQL query,
   * however long ago the launch was, floored to its hour.
   */
  async firstUseAfter(metric: MetricRef, range: FirstUseRange): Promise<FirstUseSearch> {
    const ref = posthogRef(metric);
    const span = launchHours(range);
    if (span.hours === 0) return nothingJudged(range);
    // count() tells an empty range apart from min() of nothing, whatever PostHog answers for that.
    const query =
      'SELECT min(timestamp), count() FROM events WHERE event = {event}' +
      ' AND timestamp >= toDateTime({from}) AND timestamp < toDateTime({to})';
    const values = { event: ref.event, from: iso(span.start), to: iso(span.end) };
    const row = (await this.hogql(query, values))[0];
    if (!row) throw this.unexpected('a first-use query without a row');
    const count = toNumber(row[1]);
    if (count === null) throw this.unexpected('a first-use query without a count');
    if (count === 0) return { at: null, scannedTo: span.end };
    const first = toDateTime(row[0]);
    if (!first) throw this.unexpected('a first-use query without a readable time');
    let at = hourHolding(range.launch, first);
    if (at < span.start) at = span.start;
    return { at, scannedTo: at.plus({ milliseconds: HOUR_MS }) };
  }

  async list(search?: string): Promise<string[]> {
    return (await this.definitions(search)).names;
  }

  /** Whether PostHog has seen the event, believed for a while (longer when it has). */
  private seen(event: string): Promise<boolean> {
    const now = this.clock();
    const cached = this.seenCache.get(event);
    if (cached && cached.until > now) return cached.seen;
    if (this.seenCache.size >= SEEN_CACHE_SIZE) this.seenCache.clear();
    const seen = this.lookUpSeen(event);
    const entry = { until: now + UNSEEN_TTL_MS, seen };
    this.seenCache.set(event, entry);
    seen.then(
      (yes) => {
        if (yes) entry.until = this.clock() + SEEN_TTL_MS;
      },
      () => {
        if (this.seenCache.get(event) === entry) this.seenCache.delete(event);
      },
    );
    return seen;
  }

  /**
   * An exact name among the event definitions; when there are too many near names to read
   * them all, one event of that name, looked up by a query that stops at the first.
   */
  private async lookUpSeen(event: string): Promise<boolean> {
    const { names, complete } = await this.definitions(event, (name) => name === event);
    if (names.includes(event)) return true;
    if (complete) return false;
    const rows = await this.hogql('SELECT 1 FROM events WHERE event = {event} LIMIT 1', { event });
    return rows.length > 0;
  }

  /** Event descriptions by event name, from the same event definitions (those without one are left out). */
  async metadata(): Promise<Map<string, string>> {
    const descriptions = new Map<string, string>();
    await this.definitions(undefined, undefined, descriptions);
    return descriptions;
  }

  private async definitions(
    search: string | undefined,
    stopAt?: (name: string) => boolean,
    descriptions?: Map<string, string>,
  ): Promise<{ names: string[]; complete: boolean }> {
    const names: string[] = [];
    // PostHog may give fewer than asked for a page: the next page starts after what came.
    let offset = 0;
    for (let page = 0; page < MAX_DEFINITION_PAGES; page++) {
      const { data, error, response } = await this.call(() =>
        this.api.GET('/api/projects/{project_id}/event_definitions/', {
          params: {
            path: { project_id: this.projectId },
            query: {
              ...(search ? { search } : {}),
              limit: DEFINITIONS_PAGE_SIZE,
              offset,
            },
          },
        }),
      );
      if (!data) throw this.errorFor(response, error);
      if (!Array.isArray(data.results)) throw this.unexpected('event definitions without results');
      for (const d of data.results) {
        if (typeof d?.name === 'string') names.push(d.name);
        if (descriptions && typeof d?.name === 'string' && d.description?.trim())
          descriptions.set(d.name, d.description.trim());
      }
      offset += data.results.length;
      if (!data.next) return { names, complete: true };
      if (stopAt && names.some(stopAt)) break;
    }
    return { names, complete: false };
  }

  private async hogql(query: string, values: Record<string, string>): Promise<unknown[][]> {
    const { data, error, response } = await this.call(() =>
      this.api.POST('/api/projects/{project_id}/query/', {
        params: { path: { project_id: this.projectId } },
        body: { query: { kind: 'HogQLQuery', query, values }, refresh: 'blocking', name: 'donedone' },
      }),
    );
    if (!data) throw this.errorFor(response, error);
    if (!Array.isArray(data.results)) throw this.unexpected('a query answer without results');
    return data.results as unknown[][];
  }

  private call<T>(run: () => Promise<T>): Promise<T> {
    return guardCall(SOURCE, run, (text) => this.scrub(text));
  }

  private unexpected(what: string): TelemetryUnavailableError {
    return new TelemetryUnavailableError(SOURCE, `unexpected answer: ${what}`);
  }

  /** Vendor text is quoted in errors, so make sure it cannot carry the key back, and keep it short. */
  private scrub(text: string): string {
    return text.split(this.apiKey).join('***').slice(0, 300);
  }

  private errorFor(response: Response, error: unknown): Error {
    const body = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
    const detail = typeof body.detail === 'string' ? this.scrub(body.detail) : undefined;
    const status = response.status;
    if (status === 401 || status === 403) {
      return new TelemetryUnavailableError(
        SOURCE,
        `PostHog refused the personal API key (HTTP ${status}); check POSTHOG_API_KEY and its query:read and event_definition:read scopes`,
      );
    }
    if (status === 404) {
      return new TelemetryUnavailableError(
        SOURCE,
        'PostHog has no such project (HTTP 404); check POSTHOG_PROJECT_ID',
      );
    }
    if (status === 400) {
      return new TelemetryQueryError(SOURCE, `PostHog rejected the query: ${detail ?? 'HTTP 400'}`);
    }
    return new TelemetryUnavailableError(SOURCE, `HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }
}
