import { DateTime, Duration } from 'luxon';
import type { Expectation, Op, Verdict } from './model';

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

export function deadlineOf(expectation: Expectation, launchedAt: string): DateTime {
  return DateTime.fromISO(launchedAt, { zone: 'utc' }).plus({ days: expectation.deadlineDays });
}

export interface Reading {
  at: DateTime;
  value: number;
}

/**
 * Projects the metric to the deadline from earlier readings: a straight line through the
 * oldest of the last four readings and the current one. With no history, the current value
 * stands for the deadline's (a rolling window that already meets the target is on track).
 */
export function project(current: Reading, history: Reading[], deadline: DateTime): number {
  const earlier = history.filter((r) => r.at < current.at).slice(-3);
  const first = earlier[0];
  if (!first || deadline <= current.at) return current.value;
  const span = current.at.diff(first.at).as('milliseconds');
  if (span <= 0) return current.value;
  const slope = (current.value - first.value) / span;
  const projected = current.value + slope * deadline.diff(current.at).as('milliseconds');
  return Math.max(0, projected);
}

export interface Judgement {
  verdict: Verdict;
  projected?: number;
}

/**
 * The verdict of one reading (PRODUCT.md): `met`/`missed` at or after the deadline,
 * `on track`/`at risk` before it (by projection), `no data` when the telemetry answered
 * without data. `unknown` is decided by the caller, who knows the telemetry failed.
 */
export function judge(args: {
  expectation: Expectation;
  value: number | null;
  at: DateTime;
  /** Null when the feature has not launched: the reading is then judged against the target as it stands. */
  deadline: DateTime | null;
  history?: Reading[];
}): Judgement {
  const { expectation, value, at, deadline } = args;
  if (value === null) return { verdict: 'no data' };
  if (deadline && at >= deadline) {
    return { verdict: compare(value, expectation.op, expectation.target) ? 'met' : 'missed' };
  }
  const projected = deadline ? project({ at, value }, args.history ?? [], deadline) : value;
  return {
    verdict: compare(projected, expectation.op, expectation.target) ? 'on track' : 'at risk',
    projected,
  };
}

/** Whether a verdict lets a rollout go on (Argo Rollouts' gate). */
export function isGood(verdict: Verdict): boolean {
  return verdict === 'met' || verdict === 'on track';
}
