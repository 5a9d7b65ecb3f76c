import { DateTime } from 'luxon';

/**
 * Shortcuts for the instants a sweep reads on every card and every check, when the zone is UTC:
 * there a calendar day is 24 hours and a day's date is the ISO date, so plain arithmetic gives what
 * luxon's calendar work gives, much cheaper. Only for an instant written with its offset (as
 * donedone stores them), which `Date.parse` and luxon read alike; anything else goes to luxon.
 */
const UTC = /^(utc|etc\/utc)$/i;
const WITH_OFFSET = /T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/;

/** Epoch milliseconds of `iso` when `zone` is UTC and `iso` carries its offset; else null (use luxon). */
function utcMillis(iso: string, zone: string): number | null {
  if (!UTC.test(zone) || !WITH_OFFSET.test(iso)) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** `iso` plus `days` calendar days of `zone`, in UTC (a day keeps its wall-clock time across DST). */
export function plusCalendarDays(iso: string, days: number, zone: string): DateTime {
  const ms = Number.isInteger(days) ? utcMillis(iso, zone) : null;
  if (ms !== null) return DateTime.fromMillis(ms + days * 86_400_000, { zone: 'utc' });
  return DateTime.fromISO(iso, { zone }).plus({ days }).toUTC();
}

/** The date (YYYY-MM-DD) of instant `iso` in `zone`. */
export function dayIn(iso: string, zone: string): string | null {
  const ms = utcMillis(iso, zone);
  if (ms !== null) return new Date(ms).toISOString().slice(0, 10);
  return DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).toISODate();
}
