import { DateTime } from 'luxon';
import type { FirstUseRange } from './types';

export const HOUR_MS = 3_600_000;

/**
 * The whole launch-anchored hours a first-use search judges: hour k is
 * `[launch + k h, launch + (k+1) h)`; the span runs from the first hour starting at or after
 * `from` to the last hour ending at or before `to`. `hours` is 0 when no whole hour fits.
 */
export interface HourSpan {
  start: DateTime;
  end: DateTime;
  hours: number;
}

function at(ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: 'utc' });
}

export function launchHours(range: FirstUseRange): HourSpan {
  const launch = range.launch.toMillis();
  const first = Math.ceil((range.from.toMillis() - launch) / HOUR_MS);
  const last = Math.floor((range.to.toMillis() - launch) / HOUR_MS);
  const hours = Math.max(0, last - first);
  return { start: at(launch + first * HOUR_MS), end: at(launch + (first + hours) * HOUR_MS), hours };
}

/** The start of the launch-anchored hour that holds `t`. */
export function hourHolding(launch: DateTime, t: DateTime): DateTime {
  const l = launch.toMillis();
  return at(l + Math.floor((t.toMillis() - l) / HOUR_MS) * HOUR_MS);
}

/** The start of the first launch-anchored hour at or after `t`. */
export function hourFrom(launch: DateTime, t: DateTime): DateTime {
  const l = launch.toMillis();
  return at(l + Math.ceil((t.toMillis() - l) / HOUR_MS) * HOUR_MS);
}

/** The answer when no whole hour could be judged: the cursor stays where it was. */
export function nothingJudged(range: FirstUseRange): { at: null; scannedTo: DateTime } {
  return { at: null, scannedTo: range.from.toUTC() };
}
