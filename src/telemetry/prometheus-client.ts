import type { DateTime, Duration } from 'luxon';
import { DateTime as LuxonDateTime } from 'luxon';
import createClient from 'openapi-fetch';
import type { MetricRef } from '../domain/model';
import type { paths } from './generated/prometheus';
import { promqlFor, selector } from './promql';
import {
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

/** A Prometheus-compatible HTTP API (instant and range queries, series), through openapi-fetch. */
export class PrometheusClient implements TelemetrySource {
  readonly name = 'prometheus' as const;
  private readonly client;

  constructor(opts: { baseUrl: string; fetch?: typeof fetch }) {
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
