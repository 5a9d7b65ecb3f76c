import type { LabelMatcher, MetricRef } from '../domain/model';

/** Escapes a PromQL double-quoted string's content (Go string escapes). */
export function escapePromQLString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export function selector(name: string, matchers: LabelMatcher[]): string {
  if (matchers.length === 0) return name;
  return `${name}{${matchers.map((m) => `${m.name}${m.op}"${escapePromQLString(m.value)}"`).join(',')}}`;
}

/** A raw name ending in `_total` or `_count` is a counter (PRODUCT.md). */
export function isCounter(name: string): boolean {
  return /_(total|count)$/.test(name);
}

/** A luxon-free PromQL duration from seconds: `7d`, `1h`, `90s`. */
export function promDuration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${Math.round(seconds)}s`;
}

/**
 * The PromQL for a metric aggregated over a window: counters sum their increase, gauges
 * average over the window, catalog entries fill `$window` in their own query. The metric name
 * and label names were validated by the grammar; label values are escaped here.
 */
export function promqlFor(metric: MetricRef, windowSeconds: number): string {
  if (metric.source !== 'prometheus') throw new Error(`not a Prometheus metric: ${metric.source}`);
  const range = promDuration(windowSeconds);
  if (metric.promql) return metric.promql.replace(/\$window/g, range);
  const sel = selector(metric.name, metric.matchers);
  return isCounter(metric.name) ? `sum(increase(${sel}[${range}]))` : `avg(avg_over_time(${sel}[${range}]))`;
}
