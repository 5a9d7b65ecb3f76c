import { DateTime } from 'luxon';
import type { CheckKind, Expectation } from './model';
import { deadlineOf } from './verdict';

export interface Checkpoint {
  at: DateTime;
  kind: Extract<CheckKind, 'scheduled' | 'final'>;
}

/**
 * A check every week after launch, and the final one at the deadline (PRODUCT.md); weeks and the
 * deadline are counted in the workspace's zone, so a check keeps its wall-clock time.
 */
export function checkpoints(expectation: Expectation, launchedAt: string, zone = 'utc'): Checkpoint[] {
  const launch = DateTime.fromISO(launchedAt, { zone });
  const deadline = deadlineOf(expectation, launchedAt, zone);
  const out: Checkpoint[] = [];
  for (let week = 1; ; week++) {
    const at = launch.plus({ weeks: week }).toUTC();
    if (at >= deadline) break;
    out.push({ at, kind: 'scheduled' });
  }
  out.push({ at: deadline, kind: 'final' });
  return out;
}

/**
 * Splits checkpoints into those due at `now` and those to come. Of the due intermediate checks
 * only the latest is posted, so a launch in the past does not flood the thread; the final
 * check is always posted.
 */
export function planCatchUp(
  all: Checkpoint[],
  now: DateTime,
): { due: (Checkpoint & { post: boolean })[]; future: Checkpoint[] } {
  const due = all.filter((c) => c.at <= now);
  const future = all.filter((c) => c.at > now);
  const lastScheduled = [...due].reverse().find((c) => c.kind === 'scheduled');
  return {
    due: due.map((c) => ({ ...c, post: c.kind === 'final' || c === lastScheduled })),
    future,
  };
}

export type LaunchDateResult = { ok: true; at: DateTime } | { ok: false; error: string };

/**
 * A launch date or date-time: today or in the past, never in the future. A date alone is the
 * start of that day in the workspace's zone.
 */
export function parseLaunchAt(text: string | undefined, now: DateTime, zone = 'utc'): LaunchDateResult {
  if (!text) return { ok: true, at: now.toUTC().startOf('second') };
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const at = DateTime.fromISO(text, { zone: dateOnly ? zone : 'utc' });
  if (!at.isValid) {
    return {
      ok: false,
      error: `\`${text}\` is not a date: write YYYY-MM-DD (e.g. 2026-10-01) or an ISO date-time.`,
    };
  }
  const today = now.setZone(zone).startOf('day');
  if (dateOnly ? at.startOf('day') > today : at > now.plus({ minutes: 5 })) {
    return {
      ok: false,
      error: `\`${text}\` is in the future: launch a feature when it has shipped, today or on a past date.`,
    };
  }
  return { ok: true, at: at.toUTC() };
}

/**
 * Where the launch-anchored hour holding `at` starts: first use is reported as the start of the
 * first hour after the launch instant with a value above zero (PRODUCT.md).
 */
export function launchHourOf(launch: DateTime, at: DateTime): DateTime {
  const hours = Math.floor(at.diff(launch).as('hours'));
  return launch.plus({ hours: Math.max(0, hours) });
}
