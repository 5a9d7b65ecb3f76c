import { DateTime } from 'luxon';
import type { Feature } from './model';

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
  const ms = Date.parse(flag.since);
  const since = Number.isNaN(ms) ? now : DateTime.fromMillis(ms, { zone: 'utc' });
  const ageDays = Math.max(0, Math.floor((now.toMillis() - since.toMillis()) / 86_400_000));
  if (isDecidedForGood(feature)) return { key: flag.key, since, ageDays, reason: 'decided' };
  if (ageDays > staleFlagDays) return { key: flag.key, since, ageDays, reason: 'old' };
  return null;
}
