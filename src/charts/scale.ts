/**
 * Axis scales for charts: "nice" value ticks, time ticks in UTC, and short number labels.
 * Pure: no clock, no I/O.
 */
import { DateTime } from 'luxon';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Spans shorter than this get hour (or minute) ticks; longer ones get day ticks. */
export const SUB_DAY_SPAN_MS = 2 * DAY;

/**
 * Evenly spaced round values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [lo, hi],
 * at most `maxCount` intervals. The first tick is ≤ lo and the last ≥ hi.
 */
export function niceTicks(lo: number, hi: number, maxCount = 5): number[] {
  let min = Math.min(lo, hi);
  let max = Math.max(lo, hi);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) / 2;
    min = min >= 0 && min - pad < 0 ? 0 : min - pad;
    max += pad;
  }
  const count = Math.max(1, Math.floor(maxCount));
  const magnitude = 10 ** Math.floor(Math.log10((max - min) / count));
  let step = 10 * magnitude;
  for (const m of [1, 2, 2.5, 5, 10]) {
    const candidate = m * magnitude;
    if (Math.ceil(max / candidate - 1e-9) - Math.floor(min / candidate + 1e-9) <= count) {
      step = candidate;
      break;
    }
  }
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(clean(i * step));
  return ticks;
}

const SUFFIXES: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/**
 * A short label for a number: `950`, `1.2k`, `3.4M`, `0.25`; with unit `%` the value is
 * taken as already in percent (35 → `35%`), as expectations store it.
 * With `step` (the distance between axis ticks) every label gets enough decimals to tell
 * neighbouring ticks apart; without it, three significant digits.
 */
export function formatNumber(value: number, options: { step?: number; unit?: string } = {}): string {
  if (!Number.isFinite(value)) return String(value);
  const percent = options.unit?.trim() === '%' ? '%' : '';
  const abs = Math.abs(value);
  let index = SUFFIXES.findIndex(([divisor]) => abs >= divisor);
  for (;;) {
    const [divisor, suffix] = index === -1 ? [1, ''] : (SUFFIXES[index] ?? [1, '']);
    const scaled = abs / divisor;
    const decimals =
      options.step !== undefined && options.step > 0
        ? decimalPlaces(options.step / divisor)
        : significantDecimals(scaled);
    const digits = trimZeros(scaled.toFixed(decimals));
    // 999.96 rounds to "1000": say "1k" instead.
    if (Number(digits) >= 1000 && index !== 0) {
      index = index === -1 ? SUFFIXES.length - 1 : index - 1;
      continue;
    }
    // A real minus sign: a hyphen is easy to miss at preview size.
    const sign = value < 0 && Number(digits) !== 0 ? '\u2212' : '';
    return `${sign}${digits}${suffix}${percent}`;
  }
}

/** A number with its unit, for prose: `35%`, `180 exports / week`, `1.2k`. */
export function formatWithUnit(value: number, unit?: string): string {
  const number = formatNumber(value, { unit });
  const trimmed = unit?.trim();
  return trimmed && trimmed !== '%' ? `${number} ${trimmed}` : number;
}

export interface TimeTicks {
  ticks: number[];
  /** Label of one tick, in UTC. */
  label(ms: number): string;
  /** True when the ticks are hours or minutes rather than days or months. */
  subDay: boolean;
}

const SUB_DAY_STEPS = [
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
];
// 1970-01-05 was a Monday: weekly ticks fall on Mondays.
const MONDAY_OFFSET = 4 * DAY;
const DAY_STEPS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY];
const MONTH_STEPS = [1, 2, 3, 6, 12];

/**
 * Ticks for a time axis in UTC: minutes or hours (`14:30`, a date at midnight) when the span
 * is under two days, days (`1 Oct`) up to a few months, then months (`Oct`, `Jan 2027`).
 */
export function timeTicks(startMs: number, endMs: number, maxCount = 6): TimeTicks {
  const span = Math.max(0, endMs - startMs);
  const count = Math.max(2, Math.floor(maxCount));
  if (span < SUB_DAY_SPAN_MS) {
    const step = SUB_DAY_STEPS.find((s) => span / s <= count) ?? DAY;
    return {
      ticks: stepTicks(startMs, endMs, step, 0),
      label: (ms) => {
        const t = utc(ms);
        return t.hour === 0 && t.minute === 0 ? t.toFormat('d LLL') : t.toFormat('HH:mm');
      },
      subDay: true,
    };
  }
  const dayStep = DAY_STEPS.find((s) => span / s <= count);
  if (dayStep !== undefined) {
    return {
      ticks: stepTicks(
        startMs,
        endMs,
        dayStep,
        dayStep === 7 * DAY || dayStep === 14 * DAY ? MONDAY_OFFSET : 0,
      ),
      label: (ms) => utc(ms).toFormat('d LLL'),
      subDay: false,
    };
  }
  const months = span / (30 * DAY);
  const monthStep = MONTH_STEPS.find((m) => months / m <= count) ?? Math.ceil(months / count / 12) * 12;
  const ticks: number[] = [];
  let t = utc(startMs).startOf('month');
  if (t.toMillis() < startMs) t = t.plus({ months: 1 });
  while (t.month % monthStep !== 1 % monthStep) t = t.plus({ months: 1 });
  for (; t.toMillis() <= endMs; t = t.plus({ months: monthStep })) ticks.push(t.toMillis());
  return {
    ticks,
    label: (ms) => {
      const d = utc(ms);
      return d.month === 1 || ms === ticks[0] ? d.toFormat('LLL yyyy') : d.toFormat('LLL');
    },
    subDay: false,
  };
}

/** A UTC `DateTime` with a fixed English locale, so labels do not depend on the machine. */
export function utc(ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: 'utc', locale: 'en-US' });
}

function stepTicks(startMs: number, endMs: number, step: number, offset: number): number[] {
  const ticks: number[] = [];
  for (let t = Math.ceil((startMs - offset) / step) * step + offset; t <= endMs; t += step) ticks.push(t);
  return ticks;
}

function decimalPlaces(x: number): number {
  for (let d = 0; d < 6; d++) {
    const shifted = x * 10 ** d;
    if (Math.abs(shifted - Math.round(shifted)) < 1e-6 * Math.max(1, shifted)) return d;
  }
  return 6;
}

function significantDecimals(scaled: number): number {
  if (scaled === 0) return 0;
  return clamp(2 - Math.floor(Math.log10(scaled)), 0, 6);
}

function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

function clean(n: number): number {
  const v = Number(n.toPrecision(12));
  return v === 0 ? 0 : v;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
