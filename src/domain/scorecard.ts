import type { Feature, Verdict } from './model';

/**
 * How one owner's (or the team's) expectations turned out.
 * `proposed`, `withExpectation` and `withoutExpectation` count features (proposed = with + without; dropped
 * features count: they were proposed). `launched`, `inUse`, `met` and `missed` count cycles: a feature that
 * iterated counts once for each launch in its `history` plus its current cycle, because each cycle was judged
 * against its own expectation. `retrosDecided` counts decisions: one per earlier cycle in `history` (each was
 * closed by an `iterate` decision) plus a current keep or remove.
 */
export interface Score {
  proposed: number;
  withExpectation: number;
  withoutExpectation: number;
  launched: number;
  inUse: number;
  met: number;
  missed: number;
  retrosDecided: number;
  /** met / (met + missed); null when nothing has been judged yet. */
  shareMet: number | null;
}

export interface OwnerScore extends Score {
  ownerId: string;
}

export interface Scorecard {
  /** Sorted by features proposed (most first), then owner id. */
  owners: OwnerScore[];
  team: Score;
}

function emptyScore(): Score {
  return {
    proposed: 0,
    withExpectation: 0,
    withoutExpectation: 0,
    launched: 0,
    inUse: 0,
    met: 0,
    missed: 0,
    retrosDecided: 0,
    shareMet: null,
  };
}

function currentOutcome(feature: Feature): Verdict | undefined {
  if (feature.status === 'met' || feature.status === 'missed') return feature.status;
  // A decided feature keeps the verdict its retro was opened with.
  if (feature.status === 'decided') return feature.lastVerdict;
  return undefined;
}

function add(score: Score, feature: Feature): void {
  const history = feature.history ?? [];
  score.proposed += 1;
  const hadExpectation =
    feature.expectation !== undefined || history.some((h) => h.expectation !== undefined);
  if (hadExpectation) score.withExpectation += 1;
  else score.withoutExpectation += 1;
  for (const cycle of history) {
    if (cycle.launchedAt) score.launched += 1;
    if (cycle.firstUseAt) score.inUse += 1;
    if (cycle.verdict === 'met') score.met += 1;
    if (cycle.verdict === 'missed') score.missed += 1;
  }
  if (feature.launchedAt) score.launched += 1;
  if (feature.firstUseAt) score.inUse += 1;
  const outcome = currentOutcome(feature);
  if (outcome === 'met') score.met += 1;
  if (outcome === 'missed') score.missed += 1;
  score.retrosDecided += history.length;
  if (feature.decision && feature.decision.value !== 'iterate') score.retrosDecided += 1;
}

function withShare(score: Score): Score {
  const judged = score.met + score.missed;
  return { ...score, shareMet: judged === 0 ? null : score.met / judged };
}

/** Per-owner and team scores over every feature given (filter by team or owner before calling). */
export function scorecard(features: readonly Feature[]): Scorecard {
  const byOwner = new Map<string, Score>();
  const team = emptyScore();
  for (const feature of features) {
    let score = byOwner.get(feature.ownerId);
    if (!score) {
      score = emptyScore();
      byOwner.set(feature.ownerId, score);
    }
    add(score, feature);
    add(team, feature);
  }
  const owners = [...byOwner.entries()]
    .map(([ownerId, score]) => ({ ownerId, ...withShare(score) }))
    .sort((a, b) => b.proposed - a.proposed || a.ownerId.localeCompare(b.ownerId));
  return { owners, team: withShare(team) };
}
