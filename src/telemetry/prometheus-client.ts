import type { DateTime, Duration } from 'luxon';
import { DateTime as LuxonDateTime, Duration as LuxonDuration } from 'luxon';
import createClient from 'openapi-fetch';
import type { MetricRef } from '../domain/model';
import type { paths } from './generated/prometheus';
import { HOUR_MS, launchHours, nothingJudged } from './launch-hours';
import { promqlFor, selector } from './promql';
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

type SamplePair = (string | number)[];

function sampleValue(pair: SamplePair | undefined): number | null {
  const value = Number(pair?.[1]);
  return Number.isFinite(value) ? value : null;
}

/** Prometheus refuses a range query of more than 11,000 points per series. */
const MAX_POINTS_PER_QUERY = 11_000;

/** A Prometheus-compatible HTTP API (instant and range queries, series), through openapi-fetch. */
export class PrometheusClient implements TelemetrySource {
  readonly name = 'prometheus' as const;
  private readonly client;
  private readonly maxPoints: number;

  constructor(opts: {
    baseUrl: string;
    fetch?: typeof fetch;
    /** Points per range query in a first-use search (default: Prometheus' limit, 11,000). */
    maxPointsPerQuery?: number;
  }) {
    this.maxPoints = Math.max(1, Math.floor(opts.maxPointsPerQuery ?? MAX_POINTS_PER_QUERY));
    this.client = createClient<paths>({
      baseUrl: opts.baseUrl.replace(/\/$/, ''),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  async valueOver(metric: MetricRef, window: Duration, at: DateTime): Promise<Measurement> {
    const query = promqlFor(metric, window.as('seconds'));
    const { data, error, response } = await this.call(() =>
      this.client.GET('/api/v1/query', { params: { query: { query, time: String(at.toSeconds()) } } }),
    );
    this.raise(response.status, error);
    const result = data?.data.result;
    if (!Array.isArray(result)) return { value: null, query };
    const values = (result as { value?: SamplePair }[])
      .map((r) => sampleValue(r.value))
      .filter((v): v is number => v !== null);
    return { value: values.length === 0 ? null : values.reduce((a, b) => a + b, 0), query };
  }

  /** The metric over `window`, summed across series, every `step` from `start` to `end`. */
  async series(
    metric: MetricRef,
    window: Duration,
    start: DateTime,
    end: DateTime,
    step: Duration,
  ): Promise<Series> {
    const query = promqlFor(metric, window.as('seconds'));
    const byTime = new Map<number, number>();
    for (const s of await this.rangeBySeries(query, start, end, step)) {
      for (const { at, value } of s.values) {
        if (value !== null) byTime.set(at, (byTime.get(at) ?? 0) + value);
      }
    }
    const points = [...byTime.entries()]
      .sort(([a], [b]) => a - b)
      .map(([t, value]) => ({ at: LuxonDateTime.fromSeconds(t, { zone: 'utc' }), value }));
    return { points, query };
  }

  /**
   * The hourly value (counter: increase over 1h, gauge: average over 1h, catalog query with
   * `$window` = 1h) evaluated at the end of each launch-anchored hour, in range queries of at
   * most `maxPointsPerQuery` points, earliest first; stops at the first hour above zero.
   */
  async firstUseAfter(metric: MetricRef, range: FirstUseRange): Promise<FirstUseSearch> {
    const query = promqlFor(metric, HOUR_MS / 1000);
    const span = launchHours(range);
    if (span.hours === 0) return nothingJudged(range);
    const hour = LuxonDuration.fromMillis(HOUR_MS);
    for (let done = 0; done < span.hours; done += this.maxPoints) {
      const count = Math.min(this.maxPoints, span.hours - done);
      const firstEnd = span.start.plus({ milliseconds: (done + 1) * HOUR_MS });
      const lastEnd = span.start.plus({ milliseconds: (done + count) * HOUR_MS });
      const byEnd = new Map<number, number>();
      for (const s of await this.rangeBySeries(query, firstEnd, lastEnd, hour)) {
        for (const { at, value } of s.values) {
          if (value !== null) byEnd.set(at, (byEnd.get(at) ?? 0) + value);
        }
      }
      const used = [...byEnd.entries()].filter(([, v]) => v > 0).map(([t]) => t);
      if (used.length > 0) {
        // Each point is the hour ending there: report that hour's start.
        const endMs = Math.round(Math.min(...used) * 1000);
        return {
          at: LuxonDateTime.fromMillis(endMs - HOUR_MS, { zone: 'utc' }),
          scannedTo: LuxonDateTime.fromMillis(endMs, { zone: 'utc' }),
        };
      }
    }
    return { at: null, scannedTo: span.end };
  }

  /** Per-series range values, for comparing label values (the canary). */
  async rangeBySeries(
    query: string,
    start: DateTime,
    end: DateTime,
    step: Duration,
  ): Promise<{ labels: Record<string, string>; values: { at: number; value: number | null }[] }[]> {
    const { data, error, response } = await this.call(() =>
      this.client.GET('/api/v1/query_range', {
        params: {
          query: {
            query,
            start: String(start.toSeconds()),
            end: String(end.toSeconds()),
            step: String(step.as('seconds')),
          },
        },
      }),
    );
    this.raise(response.status, error);
    const result = data?.data.result;
    if (!Array.isArray(result)) return [];
    return (result as { metric: Record<string, string>; values?: SamplePair[] }[]).map((r) => ({
      labels: r.metric,
      values: (r.values ?? []).map((pair) => ({ at: Number(pair[0]), value: sampleValue(pair) })),
    }));
  }

  async exists(metric: MetricRef, at: DateTime): Promise<boolean> {
    if (metric.source !== 'prometheus') return false;
    const { data, error, response } = await this.call(() =>
      this.client.GET('/api/v1/series', {
        params: {
          query: {
            'match[]': [selector(metric.name, metric.matchers)],
            start: String(at.minus({ days: 90 }).toSeconds()),
            end: String(at.toSeconds()),
            limit: 1,
          },
        },
      }),
    );
    this.raise(response.status, error);
    return (data?.data.length ?? 0) > 0;
  }

  async list(search?: string): Promise<string[]> {
    const { data, error, response } = await this.call(() =>
      this.client.GET('/api/v1/label/{label_name}/values', { params: { path: { label_name: '__name__' } } }),
    );
    this.raise(response.status, error);
    const names = data?.data ?? [];
    const needle = search?.toLowerCase();
    return needle ? names.filter((n) => n.toLowerCase().includes(needle)) : names;
  }

  /**
   * HELP text by metric name (`/api/v1/metadata`). Prometheus keeps metadata only for what it
   * scrapes, so names that were only backfilled or remote-written have none: callers treat the
   * map as optional extra words, never as the list of names.
   */
  async metadata(): Promise<Map<string, string>> {
    const { data, error, response } = await this.call(() =>
      this.client.GET('/api/v1/metadata', { params: { query: { limit_per_metric: 1 } } }),
    );
    this.raise(response.status, error);
    const help = new Map<string, string>();
    for (const [name, entries] of Object.entries(data?.data ?? {})) {
      const text = entries.find((e) => typeof e.help === 'string' && e.help.trim() !== '')?.help;
      if (text) help.set(name, text.trim());
    }
    return help;
  }

  private call<T>(request: () => Promise<T>): Promise<T> {
    return guardCall('prometheus', request);
  }

  private raise(status: number, error: unknown): void {
    if (status >= 200 && status < 300) return;
    const message = (error as { error?: string } | undefined)?.error ?? `HTTP ${status}`;
    if (status === 400 || status === 422) throw new TelemetryQueryError('prometheus', message);
    throw new TelemetryUnavailableError('prometheus', `HTTP ${status}`);
  }
}
