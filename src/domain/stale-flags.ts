import { DateTime } from 'luxon';
import type { Feature } from './model';

/**
 * Reads a stored ISO date-time as UTC. `Date.parse` is several times faster than `DateTime.fromISO`, which
 * matters when a digest groups thousands of features; stored times are always ISO.
 */
export function parseIso(iso: string | undefined): DateTime | undefined {
  if (!iso) return undefined;
  // Date.parse reads a date-time without an offset as local time; stored times without one mean UTC.
  const ms = Date.parse(/T[\d:.]+$/.test(iso) ? `${iso}Z` : iso);
  return Number.isNaN(ms) ? undefined : DateTime.fromMillis(ms, { zone: 'utc' });
}

/** Why a linked feature flag should be removed. */
export type StaleFlagReason = 'old' | 'decided';

export interface StaleFlag {
  key: string;
  since: DateTime;
  /** Whole days (24 hours each) from `since` to `now`. */
  ageDays: number;
  /** `decided` wins over `old`: a decision is the stronger reason to remove the flag. */
  reason: StaleFlagReason;
}

/** Whether the feature's current cycle was closed for good (keep or remove), so its flag has no purpose left. */
export function isDecidedForGood(feature: Feature): boolean {
  return feature.decision?.value === 'keep' || feature.decision?.value === 'remove';
}

/**
 * The staleness of a feature's flag: stale when older than `staleFlagDays`, or at once when the feature is
 * decided (keep or remove). Null when there is no flag or it is not stale. An `iterate` decision keeps the flag
 * useful (the next cycle still rolls out behind it), so it does not make the flag stale by itself.
 * A `since` that cannot be read counts as age 0: it is not stale by age, but still stale when decided.
 */
export function staleFlag(feature: Feature, now: DateTime, staleFlagDays: number): StaleFlag | null {
  const flag = feature.flag;
  if (!flag) return null;
  const since = parseIso(flag.since) ?? now;
  const ageDays = Math.max(0, Math.floor((now.toMillis() - since.toMillis()) / 86_400_000));
  if (isDecidedForGood(feature)) return { key: flag.key, since, ageDays, reason: 'decided' };
  if (ageDays > staleFlagDays) return { key: flag.key, since, ageDays, reason: 'old' };
  return null;
}
