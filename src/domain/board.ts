import type { DateTime } from 'luxon';
import type { Feature } from './model';
import { parseIso, type StaleFlag, staleFlag } from './stale-flags';
import { deadlineOf as deadlineAfter } from './verdict';

/**
 * The board's groups. The first eight are a feature's *standing*: every feature on the board (not dropped,
 * not decided) is in exactly one of them. `retro due` and `stale flags` are things to act on and overlap the
 * standing groups: a feature at risk whose deadline passed is in both `missed`-or-`at risk` and `retro due`,
 * because the digest should say both what it is and what to do about it.
 */
export type GroupKey =
  | 'met'
  | 'on track'
  | 'at risk'
  | 'missed'
  | 'waiting for first use'
  | 'no check yet'
  | 'no expectation'
  | 'not launched'
  | 'retro due'
  | 'stale flags';

export type StandingKey = Exclude<GroupKey, 'retro due' | 'stale flags'>;

export const GROUP_ORDER: readonly GroupKey[] = [
  'met',
  'on track',
  'at risk',
  'missed',
  'waiting for first use',
  'no check yet',
  'no expectation',
  'not launched',
  'retro due',
  'stale flags',
];

/** Group titles as a person reads them. */
export const GROUP_LABELS: Readonly<Record<GroupKey, string>> = {
  met: 'Met',
  'on track': 'On track',
  'at risk': 'At risk',
  missed: 'Missed',
  'waiting for first use': 'Waiting for first use',
  'no check yet': 'Launched, no check yet',
  'no expectation': 'No expectation yet',
  'not launched': 'Measurable, not launched',
  'retro due': 'Retro due',
  'stale flags': 'Stale flags',
};

export interface BoardEntry {
  feature: Feature;
  /** launchedAt + expectation.deadlineDays, when both are known. */
  deadline?: DateTime;
  launchedAt?: DateTime;
  /** Set in the `stale flags` group. */
  staleFlag?: StaleFlag;
}

export interface BoardGroup {
  key: GroupKey;
  label: string;
  entries: BoardEntry[];
}

export interface BoardOptions {
  staleFlagDays: number;
}

/** launchedAt + deadlineDays of the current cycle, or undefined before launch or without an expectation. */
export function deadlineOf(feature: Feature): DateTime | undefined {
  if (!parseIso(feature.launchedAt) || !feature.expectation) return undefined;
  return deadlineAfter(feature.expectation, feature.launchedAt!, feature.zone ?? 'UTC');
}

/**
 * Where a feature stands, from its status and last verdict; null when it is off the board (dropped, or decided:
 * a decided feature is done-done and only comes back on the board through a stale flag).
 * A launched feature with a verdict of met/on track/at risk/missed stands by that verdict, even before first use,
 * because the verdict is what someone has to act on; without one it waits for first use, and once in use
 * with no verdict (or `no data`/`unknown`) it is "launched, no check yet".
 */
export function standingOf(feature: Feature): StandingKey | null {
  switch (feature.status) {
    case 'dropped':
    case 'decided':
      return null;
    case 'proposed':
      return 'no expectation';
    case 'measurable':
      return 'not launched';
    case 'met':
      return 'met';
    case 'missed':
      return 'missed';
    case 'launched':
    case 'in use': {
      const v = feature.lastVerdict;
      if (v === 'met' || v === 'on track' || v === 'at risk' || v === 'missed') return v;
      return feature.firstUseAt ? 'no check yet' : 'waiting for first use';
    }
  }
}

/**
 * True when the current cycle's deadline has passed and no decision was taken on it. An `iterate` decision
 * taken before this cycle's deadline belongs to an earlier cycle, so it does not count.
 */
export function isRetroDue(feature: Feature, now: DateTime): boolean {
  return retroDue(feature, deadlineOf(feature), now);
}

function retroDue(feature: Feature, deadline: DateTime | undefined, now: DateTime): boolean {
  if (feature.status === 'dropped' || feature.status === 'decided') return false;
  if (!deadline || deadline > now) return false;
  const decision = feature.decision;
  if (!decision) return true;
  const decidedAt = parseIso(decision.at);
  return decision.value === 'iterate' && decidedAt !== undefined && decidedAt < deadline;
}

function featureNumber(id: string): number {
  const n = Number(id.replace(/^F-/i, ''));
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

function byId(a: BoardEntry, b: BoardEntry): number {
  return (
    featureNumber(a.feature.id) - featureNumber(b.feature.id) || a.feature.id.localeCompare(b.feature.id)
  );
}

/**
 * Groups features for the digest, the App Home board and owner DMs. Every group is returned, in `GROUP_ORDER`,
 * even when empty. Standing groups are sorted by feature number; `retro due` by deadline, oldest first;
 * `stale flags` by age, oldest first. Dropped features are left out.
 */
export function groupBoard(features: readonly Feature[], now: DateTime, opts: BoardOptions): BoardGroup[] {
  const buckets = new Map<GroupKey, BoardEntry[]>(GROUP_ORDER.map((k) => [k, []]));
  for (const feature of features) {
    if (feature.status === 'dropped') continue;
    const entry: BoardEntry = { feature };
    const launchedAt = parseIso(feature.launchedAt);
    if (launchedAt) entry.launchedAt = launchedAt;
    const deadline =
      launchedAt && feature.expectation
        ? launchedAt.plus({ days: feature.expectation.deadlineDays })
        : undefined;
    if (deadline) entry.deadline = deadline;
    const standing = standingOf(feature);
    if (standing) buckets.get(standing)!.push(entry);
    if (retroDue(feature, deadline, now)) buckets.get('retro due')!.push(entry);
    const stale = staleFlag(feature, now, opts.staleFlagDays);
    if (stale) buckets.get('stale flags')!.push({ ...entry, staleFlag: stale });
  }
  return GROUP_ORDER.map((key) => {
    const entries = buckets.get(key)!;
    if (key === 'retro due') {
      entries.sort((a, b) => a.deadline!.valueOf() - b.deadline!.valueOf() || byId(a, b));
    } else if (key === 'stale flags') {
      entries.sort((a, b) => b.staleFlag!.ageDays - a.staleFlag!.ageDays || byId(a, b));
    } else {
      entries.sort(byId);
    }
    return { key, label: GROUP_LABELS[key], entries };
  });
}

export interface Headline {
  /** Distinct features on the board (a feature in a standing group and in `retro due` counts once). */
  total: number;
  counts: Record<GroupKey, number>;
  /** e.g. "12 features: 3 met, 2 on track, 1 at risk · 2 retros due · 1 stale flag". */
  text: string;
}

const HEADLINE_WORDS: Record<GroupKey, [string, string]> = {
  met: ['met', 'met'],
  'on track': ['on track', 'on track'],
  'at risk': ['at risk', 'at risk'],
  missed: ['missed', 'missed'],
  'waiting for first use': ['waiting for first use', 'waiting for first use'],
  'no check yet': ['not checked yet', 'not checked yet'],
  'no expectation': ['without an expectation', 'without an expectation'],
  'not launched': ['not launched', 'not launched'],
  'retro due': ['retro due', 'retros due'],
  'stale flags': ['stale flag', 'stale flags'],
};

/** Counts per group and a one-line summary, the first thing a digest says. */
export function headline(groups: readonly BoardGroup[]): Headline {
  const counts = Object.fromEntries(GROUP_ORDER.map((k) => [k, 0])) as Record<GroupKey, number>;
  const ids = new Set<string>();
  for (const g of groups) {
    counts[g.key] += g.entries.length;
    for (const e of g.entries) ids.add(e.feature.id);
  }
  const part = (k: GroupKey): string | null => {
    const n = counts[k];
    if (n === 0) return null;
    const [one, many] = HEADLINE_WORDS[k];
    return `${n} ${n === 1 ? one : many}`;
  };
  const standing = GROUP_ORDER.filter((k) => k !== 'retro due' && k !== 'stale flags')
    .map(part)
    .filter((p): p is string => p !== null);
  const actions = (['retro due', 'stale flags'] as const).map(part).filter((p): p is string => p !== null);
  const total = ids.size;
  const lead = `${total} ${total === 1 ? 'feature' : 'features'}`;
  const text = [standing.length > 0 ? `${lead}: ${standing.join(', ')}` : lead, ...actions].join(' · ');
  return { total, counts, text };
}
