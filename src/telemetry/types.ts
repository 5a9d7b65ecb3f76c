import type { DateTime, Duration } from 'luxon';
import type { MetricRef } from '../domain/model';

/** A value measured over a window ending at a time. `value` is null when the metric has no data. */
export interface Measurement {
  value: number | null;
  /** The query as sent, for people to reproduce it. Never contains credentials. */
  query: string;
}

export interface SeriesPoint {
  at: DateTime;
  value: number;
}

export interface Series {
  points: SeriesPoint[];
  query: string;
}

/** What a first-use search found, and how far it could look. */
export interface FirstUseSearch {
  /** The start of the first launch-anchored hour with a value above zero, or null. */
  at: DateTime | null;
  /**
   * How far the search looked (≤ `to`): the end of the last complete hour judged, or the end of
   * the hour found. Ask again from here next time.
   */
  scannedTo: DateTime;
  /** A part of `[from, scannedTo)` the vendor cannot search at all (Honeycomb keeps 7 days). */
  unsearchable?: { from: DateTime; to: DateTime };
}

export interface FirstUseRange {
  /** Hours are anchored here: hour k is `[launch + k h, launch + (k+1) h)`. */
  launch: DateTime;
  from: DateTime;
  to: DateTime;
}

/**
 * One telemetry API behind one interface. Every method throws `TelemetryUnavailableError`
 * when the API cannot be reached or answers with an error that is not about the query itself,
 * and `TelemetryQueryError` when the API rejects the query (a user's mistake).
 */
export interface TelemetrySource {
  readonly name: 'prometheus' | 'posthog' | 'honeycomb';
  /** The metric aggregated over `window`, ending at `at`. */
  valueOver(metric: MetricRef, window: Duration, at: DateTime): Promise<Measurement>;
  /**
   * Several metrics over the same window and time in one call (a source whose vendor counts
   * queries, PostHog): what `valueOver` answers for each, in order. At most `batchSize` a call.
   */
  valuesOver?(metrics: MetricRef[], window: Duration, at: DateTime): Promise<Measurement[]>;
  readonly batchSize?: number;
  /** The metric aggregated over `window`, evaluated every `step` from `start` to `end`. */
  series(
    metric: MetricRef,
    window: Duration,
    start: DateTime,
    end: DateTime,
    step: Duration,
  ): Promise<Series>;
  /** Whether the metric has any data at all (ever, or recently, as the API allows). */
  exists(metric: MetricRef, at: DateTime): Promise<boolean>;
  /**
   * Looks forward from `from` for the first use of the metric: hours are anchored at `launch`
   * (hour k is [launch + k h, launch + (k+1) h)). Returns the start of the first such hour at or
   * after `from` in which the metric was above zero, or null; `scannedTo` is how far it looked
   * (≤ `to`; less when the vendor's limits cut the range, so the caller stores it as a cursor and
   * asks again from there next time); `unsearchable` is set when part of [from, scannedTo) could not
   * be searched at all (Honeycomb keeps 7 days: from earlier than that). Only whole hours are
   * judged: an hour that ends after `to` is left for the next search.
   */
  firstUseAfter(metric: MetricRef, range: FirstUseRange): Promise<FirstUseSearch>;
  /** Names that can be measured, optionally filtered by a search string. */
  list(search?: string): Promise<string[]>;
}

/**
 * The API could not answer: network, time-out, 5xx, 429 past retries, open circuit, a shared
 * rate limit reached, bad credentials. `retryAfterMs`, when known, is how long until a call may
 * go through again (the message says it too).
 */
export class TelemetryUnavailableError extends Error {
  constructor(
    readonly source: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(`${source}: ${message}`);
    this.name = 'TelemetryUnavailableError';
  }
}

/** The API answered that the query itself is wrong (bad selector, unknown event). */
export class TelemetryQueryError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'TelemetryQueryError';
  }
}

/**
 * Runs one openapi-fetch call: a malformed answer or a network failure is the API's fault
 * (`TelemetryUnavailableError`); `scrub` removes anything secret from the quoted message.
 */
export async function guardCall<T>(
  source: string,
  run: () => Promise<T>,
  scrub: (text: string) => string = (text) => text,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof TelemetryUnavailableError || err instanceof TelemetryQueryError) throw err;
    if (err instanceof SyntaxError) {
      throw new TelemetryUnavailableError(source, 'unexpected answer: the answer was not JSON');
    }
    throw new TelemetryUnavailableError(source, scrub(err instanceof Error ? err.message : String(err)));
  }
}
