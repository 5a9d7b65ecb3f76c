import type { DateTime } from 'luxon';

/** One point per calendar month, e.g. from a Prometheus range query; `month` is any instant inside the month. */
export interface MonthValue {
  month: DateTime;
  value: number | null;
}

export interface MonthUsed {
  /** Start of the calendar month, in `now`'s zone. */
  month: DateTime;
  used: boolean;
  /** null when the telemetry had no data for the month. */
  value: number | null;
}

export interface MonthsUsed {
  /** The last 12 calendar months, oldest first; the last one is the current month so far. */
  months: MonthUsed[];
  usedCount: number;
  /** "used in 4 of the last 12 months" */
  text: string;
  /** One character a month, oldest first: █ used, ▁ not used (zero), ░ no data. */
  strip: string;
  /** One letter a month under the strip, e.g. "DJFMAMJJASON". */
  initials: string;
}

export const USED_CHAR = '█';
export const UNUSED_CHAR = '▁';
export const NO_DATA_CHAR = '░';

export interface MonthBoundary {
  start: DateTime;
  /** Exclusive: the start of the next month, or `now` for the current month (the future has no data). */
  end: DateTime;
}

/**
 * The 12 calendar months ending with the current one, oldest first, in `zone` (default: `now`'s zone),
 * so the caller can query each month's usage.
 */
export function lastTwelveMonths(now: DateTime, zone?: string): MonthBoundary[] {
  const local = zone ? now.setZone(zone) : now;
  const current = local.startOf('month');
  const out: MonthBoundary[] = [];
  for (let i = 11; i >= 0; i--) {
    const start = current.minus({ months: i });
    const end = i === 0 ? local : start.plus({ months: 1 });
    out.push({ start, end });
  }
  return out;
}

function monthKey(d: DateTime): string {
  return d.toFormat('yyyy-LL');
}

/**
 * Months used over the last 12 calendar months (in `now`'s zone): a month is used when its value is above zero.
 * Values outside the 12 months are ignored; several values for one month are added up; a month without a
 * value has no data (shown as such, never as used).
 */
export function monthsUsed(values: readonly MonthValue[], now: DateTime): MonthsUsed {
  const sums = new Map<string, number | null>();
  for (const v of values) {
    const key = monthKey(v.month.setZone(now.zone));
    const prev = sums.get(key) ?? null;
    if (v.value === null || !Number.isFinite(v.value)) {
      if (!sums.has(key)) sums.set(key, null);
      continue;
    }
    sums.set(key, (prev ?? 0) + v.value);
  }
  const months = lastTwelveMonths(now).map(({ start }) => {
    const value = sums.get(monthKey(start)) ?? null;
    return { month: start, used: value !== null && value > 0, value };
  });
  const usedCount = months.filter((m) => m.used).length;
  const strip = months
    .map((m) => (m.used ? USED_CHAR : m.value === null ? NO_DATA_CHAR : UNUSED_CHAR))
    .join('');
  const initials = months.map((m) => m.month.setLocale('en').toFormat('LLLLL')).join('');
  return { months, usedCount, text: `used in ${usedCount} of the last 12 months`, strip, initials };
}
