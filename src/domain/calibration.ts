/**
 * Calibration: how an owner's (or a team's) past expectations landed. Pure: the caller hands in
 * features and the final checks it read; nothing here reads the clock or the store.
 */
import type { Check, Expectation, Feature, Op } from './model';

/** One cycle judged at its deadline: `met` or `missed`, with the value measured then. */
export interface JudgedCycle {
  featureId: string;
  title: string;
  ownerId: string;
  op: Op;
  target: number;
  /** The value at the deadline; null when the cycle's record kept no number. */
  value: number | null;
  verdict: 'met' | 'missed';
  /** Actual as a share of target, direction-aware (see `actualShare`); null when it has no meaning. */
  share: number | null;
}

export interface Calibration {
  judged: number;
  met: number;
  /** Median and range of `share` over the judged cycles that have one; null below `MIN_JUDGED`. */
  median: number | null;
  min: number | null;
  max: number | null;
}

/** Percentages are shown only from this many judged cycles on: fewer say little about a habit. */
export const MIN_JUDGED = 3;

/**
 * Actual as a share of target, so that above 1 is always "better than the target":
 * - `>=` / `>`: value ÷ target (336 exports against 200 is 168%);
 * - `<=` / `<`: target ÷ value (a 2% error-ratio target landing at 4% is 50%; at 1% it is 200%).
 * Inverting for "at most" targets keeps one reading for the median and range whatever the
 * direction, so a team's "median 64%" means "landed at about two thirds of the ambition" for
 * both kinds. Null when the division means nothing (a zero or negative target or value).
 */
export function actualShare(op: Op, target: number, value: number | null): number | null {
  if (value === null || !Number.isFinite(value) || !Number.isFinite(target)) return null;
  if (op === '>=' || op === '>') return target > 0 && value >= 0 ? value / target : null;
  return target > 0 && value > 0 ? target / value : null;
}

function cycle(
  feature: Feature,
  expectation: Expectation | undefined,
  verdict: string | undefined,
  value: number | null | undefined,
): JudgedCycle | null {
  if (!expectation || (verdict !== 'met' && verdict !== 'missed')) return null;
  const v = value ?? null;
  return {
    featureId: feature.id,
    title: feature.title,
    ownerId: feature.ownerId,
    op: expectation.op,
    target: expectation.target,
    value: v,
    verdict,
    share: actualShare(expectation.op, expectation.target, v),
  };
}

/**
 * The judged cycles of one feature: every earlier cycle in `history` judged `met` or `missed`
 * (its value from the retro it opened), and the current cycle when its final check at the
 * deadline (`kind: 'final'`, taken since the current launch) said `met` or `missed`, or, without
 * that check, when the status or the retro stored with the cycle says so.
 */
export function judgedCycles(feature: Feature, checks: readonly Check[] = []): JudgedCycle[] {
  const out: JudgedCycle[] = [];
  for (const h of feature.history ?? []) {
    const c = cycle(feature, h.expectation, h.verdict, h.retro?.actual.value);
    if (c) out.push(c);
  }
  if (feature.status === 'dropped' || !feature.launchedAt) return out;
  const launched = Date.parse(feature.launchedAt);
  const final = checks
    .filter((c) => c.kind === 'final' && Date.parse(c.at) >= launched)
    .sort((a, b) => a.at.localeCompare(b.at))
    .pop();
  // The final check first (it has the number); a final check that could not measure (`unknown`)
  // leaves the verdict to what was stored with the cycle once it was settled.
  let current = final ? cycle(feature, feature.expectation, final.verdict, final.value) : null;
  if (!current && feature.retro?.launchedAt === feature.launchedAt) {
    current = cycle(feature, feature.expectation, feature.retro.actual.verdict, feature.retro.actual.value);
  }
  if (!current && (feature.status === 'met' || feature.status === 'missed')) {
    current = cycle(feature, feature.expectation, feature.status, null);
  }
  if (current) out.push(current);
  return out;
}

/**
 * What of a feature its judged cycles are made of (with the final checks `judged` reads for it):
 * two versions with the same fingerprint give the same cycles. A write that keeps it (a weekly
 * check's verdict, a card's timestamp) cannot change anyone's calibration.
 */
export function judgedFingerprint(feature: Feature): string {
  const { ownerId, status, launchedAt, expectation: e, retro } = feature;
  const history = (feature.history ?? []).map((h) => [
    h.expectation?.op,
    h.expectation?.target,
    h.verdict,
    h.retro?.actual.value,
  ]);
  return JSON.stringify([
    ownerId,
    status,
    launchedAt,
    e?.op,
    e?.target,
    retro?.launchedAt,
    retro?.actual,
    history,
  ]);
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Met count, and the median and range of actual ÷ target from `MIN_JUDGED` judged cycles on. */
export function calibrate(cycles: readonly JudgedCycle[]): Calibration {
  const judged = cycles.length;
  const met = cycles.filter((c) => c.verdict === 'met').length;
  const shares = cycles
    .map((c) => c.share)
    .filter((s): s is number => s !== null)
    .sort((a, b) => a - b);
  if (judged < MIN_JUDGED || shares.length === 0) return { judged, met, median: null, min: null, max: null };
  return { judged, met, median: median(shares), min: shares[0]!, max: shares[shares.length - 1]! };
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/**
 * PRODUCT.md's words: "met 3 of 5; actuals at a median 64% of target, 20%–130%". Below three
 * judged: how many, without percentages. Null when nothing was judged yet.
 */
export function describeCalibration(c: Calibration): string | null {
  if (c.judged === 0) return null;
  const met = `met ${c.met} of ${c.judged}`;
  if (c.judged < MIN_JUDGED) {
    const n = c.judged === 1 ? 'one judged expectation' : `${c.judged} judged expectations`;
    return `${met}; only ${n} so far, too few for percentages (they come from ${MIN_JUDGED} on)`;
  }
  if (c.median === null || c.min === null || c.max === null) return met;
  return `${met}; actuals at a median ${percent(c.median)} of target, ${percent(c.min)}–${percent(c.max)}`;
}
