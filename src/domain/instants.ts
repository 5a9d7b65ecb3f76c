import { DateTime } from 'luxon';

/**
 * Shortcuts for the instants a sweep reads on every card and every check, when the zone is UTC:
 * there a calendar day is 24 hours and a day's date is the ISO date, so plain arithmetic gives what
 * luxon's calendar work gives, much cheaper. Only for an instant written in UTC with its `Z` (as
 * donedone stores them) that names a real date and time (`Date.parse` rolls 30 February over to
 * March, where luxon refuses it); anything else goes to luxon.
 */
const UTC = /^(utc|etc\/utc)$/i;
const IN_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?Z$/;

/** Epoch milliseconds of `iso` when `zone` is UTC and `iso` is a valid UTC instant; else null (use luxon). */
function utcMillis(iso: string, zone: string): number | null {
  if (!UTC.test(zone) || !IN_UTC.test(iso)) return null;
  const ms = Date.parse(iso);
  // Read back, the same date and minute: nothing was rolled over.
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(iso.slice(0, 16)) ? ms : null;
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

/**
 * Whole calendar days of `zone` from the day of instant `iso` to the day of `now` (0 on the same
 * day; negative when `now` is earlier): "launched 3 days ago" on every line of a `list`.
 */
export function calendarDaysSince(iso: string, now: DateTime, zone: string): number {
  const ms = utcMillis(iso, zone);
  if (ms !== null) return Math.floor(now.toMillis() / 86_400_000) - Math.floor(ms / 86_400_000);
  const day = DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone).startOf('day');
  return Math.floor(now.setZone(zone).startOf('day').diff(day, 'days').days);
}
