import { type DateTime, Duration } from 'luxon';
import { plusCalendarDays } from './instants';
import type { Expectation, MetricRef, Op, Verdict } from './model';

export function compare(value: number, op: Op, target: number): boolean {
  switch (op) {
    case '>=':
      return value >= target;
    case '>':
      return value > target;
    case '<=':
      return value <= target;
    case '<':
      return value < target;
  }
}

/** The rolling window as a fixed duration: a month is 30 days, as a PromQL range must be fixed. */
export function windowDuration(window: Expectation['window']): Duration {
  switch (window) {
    case 'day':
      return Duration.fromObject({ days: 1 });
    case 'week':
      return Duration.fromObject({ days: 7 });
    case 'month':
      return Duration.fromObject({ days: 30 });
  }
}

/**
 * The deadline: the launch instant plus the expectation's days, counted as calendar days in the
 * workspace's zone (PRODUCT.md: dates are in the workspace's zone), so a deadline keeps its
 * wall-clock time across a daylight-saving change.
 */
export function deadlineOf(expectation: Expectation, launchedAt: string, zone = 'utc'): DateTime {
  return plusCalendarDays(launchedAt, expectation.deadlineDays, zone);
}

/** Data since first use needed before a verdict other than `too early`: 7 days, or the window if shorter. */
export function minimumData(expectation: Expectation): Duration {
  const windowMs = windowDuration(expectation.window).toMillis();
  return Duration.fromMillis(Math.min(windowMs, Duration.fromObject({ days: 7 }).toMillis()));
}

/**
 * Whether the metric is a count over its window (a counter's increase, a number of events), so
 * that a window only partly after first use can be scaled to the whole window. Averages, ratios
 * and percentiles (gauges) are not scaled.
 */
export function isCumulative(metric: MetricRef, unit?: Expectation['unit']): boolean {
  if (unit === '%') return false;
  switch (metric.source) {
    case 'prometheus':
      if (metric.promql) return /\b(increase|count_over_time|sum_over_time)\s*\(/.test(metric.promql);
      return /_(total|count)$/.test(metric.name);
    case 'posthog':
      return true;
    case 'honeycomb': {
      const op = metric.calculation?.op.toUpperCase() ?? 'COUNT';
      return op === 'COUNT' || op === 'SUM' || op === 'COUNT_DISTINCT';
    }
    case 'catalog':
      // Resolved by the caller (the telemetry door knows the catalog); unresolved, assume a count.
      return true;
  }
}

export interface Reading {
  at: DateTime;
  value: number;
}

/** A least-squares line through the readings, evaluated at `at` (never below zero). */
export function fitLine(readings: Reading[], at: DateTime): number {
  const n = readings.length;
  const last = readings[n - 1];
  if (!last) return 0;
  if (n === 1) return Math.max(0, last.value);
  const t0 = readings[0]!.at.toMillis();
  const xs = readings.map((r) => r.at.toMillis() - t0);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = readings.reduce((a, r) => a + r.value, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (readings[i]!.value - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return Math.max(0, my + slope * (at.toMillis() - t0 - mx));
}

export interface Judgement {
  verdict: Verdict;
  /** Before the deadline: the value expected at the deadline (the rate since first use, or its trend). */
  projected?: number;
}

export interface JudgeArgs {
  expectation: Expectation;
  /** The metric over the window ending at `at`; null when the telemetry answered without data. */
  value: number | null;
  at: DateTime;
  /** Null when the feature has not launched: the reading is then judged against the target as it stands. */
  deadline: DateTime | null;
  launchedAt?: DateTime | null;
  /** When the rate starts: first use (or the launch, when the metric was in use before it). */
  firstUseAt?: DateTime | null;
  /** A count over the window (scaled when the window is not yet full since first use); see `isCumulative`. */
  cumulative?: boolean;
  /** Earlier readings of the same expectation and launch. */
  history?: Reading[];
}

/**
 * The verdict of one reading (PRODUCT.md "Verdicts, precisely"):
 * - `no data` when the telemetry answered without data; `unknown` is decided by the caller;
 * - at or after the deadline, `met` or `missed`;
 * - before it, the rate since first use is judged: `too early` while there are less than
 *   7 days (or one window, if shorter) of data since first use and the target is not met yet;
 *   a window not yet full since first use is scaled to the whole window (counts only); a trend
 *   is fitted only on readings whose whole window lies after first use, so the ramp from zero
 *   before it is never extrapolated; otherwise the steady rate is compared with the target.
 */
export function judge(args: JudgeArgs): Judgement {
  const { expectation: e, value, at, deadline } = args;
  if (value === null) return { verdict: 'no data' };
  const metNow = compare(value, e.op, e.target);
  if (deadline && at >= deadline) return { verdict: metNow ? 'met' : 'missed' };
  if (!deadline) return { verdict: metNow ? 'on track' : 'at risk', projected: value };

  const minimum = minimumData(e);
  const start = args.firstUseAt && args.firstUseAt <= at ? args.firstUseAt : null;
  if (!start) {
    if (metNow) return { verdict: 'on track', projected: value };
    const since = args.launchedAt ?? null;
    if (since && at.diff(since) < minimum) return { verdict: 'too early' };
    // Nobody used it in all the time a verdict needs: the rate is zero.
    return { verdict: 'at risk', projected: value };
  }
  const used = at.diff(start);
  if (!metNow && used < minimum) return { verdict: 'too early' };
  const window = windowDuration(e.window);
  const scale =
    args.cumulative && used < window && used.toMillis() > 0 ? window.toMillis() / used.toMillis() : 1;
  const full = [...(args.history ?? []).filter((r) => r.at < at), { at, value }].filter(
    (r) => r.at.minus(window) >= start,
  );
  const projected = full.length >= 2 ? fitLine(full, deadline) : value * scale;
  return { verdict: compare(projected, e.op, e.target) ? 'on track' : 'at risk', projected };
}

/** Whether a verdict lets a rollout go on (Argo Rollouts' gate). */
export function isGood(verdict: Verdict): boolean {
  return verdict === 'met' || verdict === 'on track';
}

/** Verdicts that tell the owner something went wrong (and DM them). `too early` never does. */
export function isAlarming(verdict: Verdict): boolean {
  return verdict === 'missed' || verdict === 'at risk';
}
