/**
 * The statistics for judging a canary against a baseline, after Netflix/Spinnaker Kayenta's
 * Mann-Whitney classifier: a rank test for "do these two samples differ?" and the
 * Hodges-Lehmann estimate of by how much, with a confidence interval. Pure functions: no I/O,
 * no clock. The numbers follow R's `wilcox.test(x, y, conf.int = TRUE)` where R's method is
 * stated below, so any result can be reproduced there.
 */

/** How a p-value or interval was computed. */
export type StatsMethod = 'exact' | 'normal';

export interface MannWhitneyResult {
  /** Mann-Whitney U of `x`: pairs with x_i > y_j, plus half the pairs with x_i = y_j (R's `W`). */
  u: number;
  /**
   * The standardised statistic (U - nm/2 ∓ 0.5) / σ, with σ corrected for ties. Reported for
   * both methods; it determines the p-value only when `method` is `normal`. 0 when σ is 0.
   */
  z: number;
  /** Two-sided p-value. */
  pValue: number;
  method: StatsMethod;
}

export interface ShiftEstimate {
  /** The Hodges-Lehmann shift: the median of all pairwise differences x_i - y_j. */
  estimate: number;
  /** Lower bound of the confidence interval for the shift. */
  low: number;
  /** Upper bound of the confidence interval for the shift. */
  high: number;
  method: StatsMethod;
}

/**
 * R computes exact results when both samples have fewer than 50 points and no value occurs
 * twice in the pooled sample; so do we (`wilcox.test`'s `exact = NULL` default).
 */
const EXACT_LIMIT = 50;

/**
 * Two-sided Mann-Whitney (Wilcoxon rank-sum) test of `x` against `y`.
 *
 * - Exact (`method: 'exact'`) when both samples have fewer than 50 points and there are no ties:
 *   the p-value comes from the exact null distribution of U, as R's `wilcox.test(x, y)`.
 * - Otherwise the normal approximation with the tie correction of σ and a continuity correction
 *   of 0.5, as R's `wilcox.test(x, y, exact = FALSE, correct = TRUE)` and SciPy's
 *   `mannwhitneyu(x, y, method='asymptotic', use_continuity=True)`.
 *
 * Non-finite values must be removed first. Throws `RangeError` when a sample is empty.
 */
export function mannWhitney(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  assertSamples(x, y);
  const n = x.length;
  const m = y.length;
  const { xRankSum, tieTerm } = rankSumOfFirst(x, y);
  const u = xRankSum - (n * (n + 1)) / 2;

  const centred = u - (n * m) / 2;
  const sigma = Math.sqrt(((n * m) / 12) * (n + m + 1 - tieTerm / ((n + m) * (n + m - 1))));
  const z = sigma > 0 ? (centred - Math.sign(centred) * 0.5) / sigma : 0;

  if (n < EXACT_LIMIT && m < EXACT_LIMIT && tieTerm === 0) {
    const dist = exactUDistribution(n, m);
    // As R: the tail on the side of the observed U, doubled.
    const tail = u > (n * m) / 2 ? sumRange(dist, u, n * m) : sumRange(dist, 0, u);
    return { u, z, pValue: Math.min(1, 2 * tail), method: 'exact' };
  }
  const pValue = sigma > 0 ? Math.min(1, 2 * normalUpperTail(Math.abs(z))) : 1;
  return { u, z, pValue, method: 'normal' };
}

/**
 * The Hodges-Lehmann estimate of the shift of `x` relative to `y` (x - y) and its two-sided
 * confidence interval at `confidence` (e.g. 0.95), read from the order statistics d_(1) ≤ … ≤
 * d_(nm) of the pairwise differences x_i - y_j (1-based ranks):
 *
 * - Exact (fewer than 50 points in each sample, no ties), as R's `wilcox.test(x, y, conf.int =
 *   TRUE)`: q = the α/2 quantile of U's exact null distribution (at least 1), interval
 *   [d_(q), d_(nm-q+1)].
 * - Otherwise the normal approximation k = floor(nm/2 - z_{1-α/2} · √(nm(n+m+1)/12)) (at least 0),
 *   interval [d_(k+1), d_(nm-k)]. This is the textbook interval (Hollander & Wolfe; Lehmann),
 *   without a tie correction; R instead inverts the corrected normal test numerically, so for large
 *   or tied samples its bounds can differ slightly from these.
 *
 * The differences are never all held in memory at once, so samples of thousands of points are
 * fine. Throws `RangeError` when a sample is empty or `confidence` is not strictly between 0 and 1.
 */
export function hodgesLehmann(x: readonly number[], y: readonly number[], confidence = 0.95): ShiftEstimate {
  assertSamples(x, y);
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be between 0 and 1 (exclusive), e.g. 0.95; got ${confidence}`);
  }
  const xs = sortedCopy(x);
  const ys = sortedCopy(y);
  const n = xs.length;
  const m = ys.length;
  const total = n * m;
  const alpha = 1 - confidence;

  const estimate =
    total % 2 === 1
      ? kthPairwiseDifference(xs, ys, (total + 1) / 2)
      : (kthPairwiseDifference(xs, ys, total / 2) + kthPairwiseDifference(xs, ys, total / 2 + 1)) / 2;

  if (n < EXACT_LIMIT && m < EXACT_LIMIT && !hasTies(xs, ys)) {
    const q = Math.max(1, exactUQuantile(exactUDistribution(n, m), alpha / 2));
    return {
      estimate,
      low: kthPairwiseDifference(xs, ys, q),
      high: kthPairwiseDifference(xs, ys, total - q + 1),
      method: 'exact',
    };
  }
  const zCrit = normalQuantileUpper(alpha / 2);
  const k = Math.max(0, Math.floor(total / 2 - zCrit * Math.sqrt((total * (n + m + 1)) / 12)));
  return {
    estimate,
    low: kthPairwiseDifference(xs, ys, k + 1),
    high: kthPairwiseDifference(xs, ys, total - k),
    method: 'normal',
  };
}

export interface CanaryOptions {
  /** Confidence of the interval for the shift. Default 0.98, as Kayenta's Mann-Whitney classifier. */
  confidence?: number;
  /** The shift, as a fraction of the baseline, that is tolerated on the bad side. Default 0.10 (10%). */
  tolerance?: number;
  /** `true` (default) for dollars or successes per minute; `false` for latency or errors. */
  higherIsBetter?: boolean;
  /** Fewest usable points each of canary and baseline must have. Default {@link DEFAULT_MIN_POINTS}. */
  minPoints?: number;
}

/**
 * Why 10: below it the 98% interval says little. With 5 points each it runs from the 2nd smallest
 * to the 2nd largest of the 25 differences, so a canary would pass unless nearly all its points
 * were worse than nearly all the baseline's: for want of evidence rather than on it. With 10 each
 * it runs from the 20th to the 81st of 100. Ten a side is also the usual rule of thumb for when the
 * normal approximation to U becomes adequate, which ties (common in counts) force us to use.
 */
export const DEFAULT_MIN_POINTS = 10;

/** What the shift in percent was taken relative to; see {@link judgeCanary}. */
export type PercentOf = 'baseline median' | 'baseline mean' | 'pooled mean';

export type CanaryJudgement =
  | {
      kind: 'judged';
      /** `true` exactly when `verdict` is `pass`: the shape a rollout gate reads. */
      ok: boolean;
      verdict: 'pass' | 'hold';
      /** Hodges-Lehmann shift of canary against baseline, in percent, e.g. -23.5. */
      difference: number;
      /** Lower bound of the confidence interval of the shift, in percent. */
      low: number;
      /** Upper bound of the confidence interval of the shift, in percent. */
      high: number;
      /** Two-sided Mann-Whitney p-value. */
      pValue: number;
      canaryMedian: number;
      baselineMedian: number;
      /** Points used, after non-numbers were dropped. */
      canaryPoints: number;
      baselinePoints: number;
      /** Usually `baseline median`; the fallbacks are for a baseline whose median is 0. */
      percentOf: PercentOf;
      method: StatsMethod;
    }
  | { kind: 'insufficient'; reason: string };

/**
 * Judge a canary's points against the baseline's over the same window.
 *
 * Points that are not finite numbers (NaN, ±Infinity, null, undefined: gaps in a telemetry
 * series) are dropped first; with fewer than `minPoints` left on either side the answer is
 * `insufficient`, with the reason in plain words.
 *
 * The shift is the Hodges-Lehmann estimate (canary - baseline) with its interval at `confidence`
 * (see {@link hodgesLehmann}), expressed in percent of the baseline median. The verdict is `hold`
 * when the whole interval lies on the bad side beyond the tolerance (higher is better: high <
 * -tolerance·100; lower is better: low > tolerance·100), and `pass` otherwise. So a canary passes
 * both when it is no worse and when the data cannot show it is more than `tolerance` worse.
 *
 * A baseline median of 0 (typical of error counts) cannot scale a percentage. Then the shift is
 * taken in percent of the mean absolute value of the baseline; if the baseline is all zeros, of
 * the mean absolute value of both samples together (so a canary that starts producing errors
 * against a silent baseline still shows as a large finite increase); if both are all zeros every
 * difference is 0%. `percentOf` says which was used. Magnitudes are used, so a negative baseline
 * median keeps the sign of the shift: negative is always "canary lower".
 *
 * Throws `RangeError` for options out of range (a programming error, not a user's).
 */
export function judgeCanary(
  canary: ReadonlyArray<number | null | undefined>,
  baseline: ReadonlyArray<number | null | undefined>,
  opts: CanaryOptions = {},
): CanaryJudgement {
  const confidence = opts.confidence ?? 0.98;
  const tolerance = opts.tolerance ?? 0.1;
  const higherIsBetter = opts.higherIsBetter ?? true;
  const minPoints = opts.minPoints ?? DEFAULT_MIN_POINTS;
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be between 0 and 1 (exclusive), e.g. 0.98; got ${confidence}`);
  }
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) {
    throw new RangeError(`tolerance must be a fraction of at least 0, e.g. 0.1 for 10%; got ${tolerance}`);
  }
  if (!(Number.isInteger(minPoints) && minPoints >= 1)) {
    throw new RangeError(`minPoints must be a whole number of at least 1, e.g. 10; got ${minPoints}`);
  }

  const c = finitePoints(canary);
  const b = finitePoints(baseline);
  const short = insufficientReason(c.length, b.length, minPoints);
  if (short) return { kind: 'insufficient', reason: short };

  const canaryMedian = median(sortedCopy(c));
  const baselineMedian = median(sortedCopy(b));
  const shift = hodgesLehmann(c, b, confidence);
  const test = mannWhitney(c, b);

  let percentOf: PercentOf = 'baseline median';
  let scale = Math.abs(baselineMedian);
  if (scale === 0) {
    percentOf = 'baseline mean';
    scale = meanAbs(b);
  }
  if (scale === 0) {
    percentOf = 'pooled mean';
    scale = meanAbs([...c, ...b]);
  }
  // scale is 0 only when every point is 0, and then every difference is 0 too.
  const percent = (v: number): number => (scale === 0 ? 0 : (100 * v) / scale);
  const difference = percent(shift.estimate);
  const low = percent(shift.low);
  const high = percent(shift.high);

  const limit = tolerance * 100;
  const hold = higherIsBetter ? high < -limit : low > limit;
  return {
    kind: 'judged',
    ok: !hold,
    verdict: hold ? 'hold' : 'pass',
    difference,
    low,
    high,
    pValue: test.pValue,
    canaryMedian,
    baselineMedian,
    canaryPoints: c.length,
    baselinePoints: b.length,
    percentOf,
    method: shift.method,
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function assertSamples(x: readonly number[], y: readonly number[]): void {
  if (x.length === 0 || y.length === 0) {
    throw new RangeError(`both samples need at least one point; got ${x.length} and ${y.length}`);
  }
}

function finitePoints(points: ReadonlyArray<number | null | undefined>): number[] {
  const out: number[] = [];
  for (const p of points) if (typeof p === 'number' && Number.isFinite(p)) out.push(p);
  return out;
}

function pointsWord(count: number): string {
  return `${count} ${count === 1 ? 'point' : 'points'}`;
}

function insufficientReason(canary: number, baseline: number, minPoints: number): string | undefined {
  const needed = `at least ${minPoints} ${minPoints === 1 ? 'is' : 'are'} needed`;
  if (canary < minPoints && baseline < minPoints) {
    return `the canary has ${pointsWord(canary)} and the baseline ${pointsWord(baseline)} over the window; ${needed} in each`;
  }
  if (canary < minPoints) return `the canary has ${pointsWord(canary)} over the window; ${needed}`;
  if (baseline < minPoints) return `the baseline has ${pointsWord(baseline)} over the window; ${needed}`;
  return undefined;
}

function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function meanAbs(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += Math.abs(v);
  return values.length === 0 ? 0 : sum / values.length;
}

function hasTies(xs: Float64Array, ys: Float64Array): boolean {
  const pooled = new Float64Array(xs.length + ys.length);
  pooled.set(xs);
  pooled.set(ys, xs.length);
  pooled.sort();
  for (let i = 1; i < pooled.length; i++) if (pooled[i] === pooled[i - 1]) return true;
  return false;
}

/** Sum of the midranks of `x` in the pooled sample, and Σ(t³ - t) over groups of t tied values. */
function rankSumOfFirst(x: readonly number[], y: readonly number[]): { xRankSum: number; tieTerm: number } {
  const pooled = [
    ...x.map((value) => ({ value, fromX: true })),
    ...y.map((value) => ({ value, fromX: false })),
  ].sort((a, b) => a.value - b.value);
  let xRankSum = 0;
  let tieTerm = 0;
  let i = 0;
  while (i < pooled.length) {
    let j = i;
    while (j + 1 < pooled.length && pooled[j + 1]!.value === pooled[i]!.value) j++;
    const t = j - i + 1;
    const midrank = (i + 1 + j + 1) / 2;
    for (let k = i; k <= j; k++) if (pooled[k]!.fromX) xRankSum += midrank;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { xRankSum, tieTerm };
}

/**
 * P(U = u) for u = 0..nm under the null hypothesis, with n and m points and no ties. Built with
 * probabilities rather than counts (which reach C(98, 49) ≈ 2.5e28) so nothing overflows or
 * cancels: the largest of i + j points is one of the i x's with probability i/(i+j), and then it
 * exceeds all j y's. So P_{i,j}(u) = i/(i+j)·P_{i-1,j}(u-j) + j/(i+j)·P_{i,j-1}(u).
 */
function exactUDistribution(n: number, m: number): Float64Array {
  // prev[j] holds P_{i-1,j}; for i = 0 every U is 0.
  let prev: Float64Array[] = Array.from({ length: m + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= n; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= m; j++) {
      const row = new Float64Array(i * j + 1);
      const fromX = prev[j]!; // P_{i-1,j}, support 0..(i-1)j
      const fromY = cur[j - 1]!; // P_{i,j-1}, support 0..i(j-1)
      const px = i / (i + j);
      const py = j / (i + j);
      for (let u = 0; u < fromX.length; u++) row[u + j]! += px * fromX[u]!;
      for (let u = 0; u < fromY.length; u++) row[u]! += py * fromY[u]!;
      cur.push(row);
    }
    prev = cur;
  }
  return prev[m]!;
}

function sumRange(dist: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let u = from; u <= to; u++) sum += dist[u]!;
  return sum;
}

/** The smallest q with P(U ≤ q) ≥ p, with R's `qwilcox` allowance for rounding. */
function exactUQuantile(dist: Float64Array, p: number): number {
  const target = p - 10 * Number.EPSILON;
  let cumulative = 0;
  for (let q = 0; q < dist.length; q++) {
    cumulative += dist[q]!;
    if (cumulative >= target) return q;
  }
  return dist.length - 1;
}

/** Number of pairs with x_i - y_j ≤ t; `xs` and `ys` ascending. O(n + m). */
function countAtMost(xs: Float64Array, ys: Float64Array, t: number): number {
  // For each x_i, the differences x_i - y_j fall as j rises; p is the first j with x_i - y_j ≤ t,
  // and it never moves back as x_i grows.
  const m = ys.length;
  let p = 0;
  let count = 0;
  for (let i = 0; i < xs.length; i++) {
    const xi = xs[i]!;
    while (p < m && xi - ys[p]! > t) p++;
    count += m - p;
  }
  return count;
}

/** Enumerating at most this many differences at once keeps memory small for long series. */
const ENUMERATE_LIMIT = 1 << 16;

/**
 * The k-th smallest (1-based) of the n·m differences x_i - y_j, without materialising them all:
 * bisect on the value until few enough differences lie between the bounds, then list and sort
 * those. `xs` and `ys` ascending. Comparisons use the computed differences themselves, so the
 * result is exactly what sorting all of them would give.
 */
function kthPairwiseDifference(xs: Float64Array, ys: Float64Array, k: number): number {
  const n = xs.length;
  const m = ys.length;
  const minDiff = xs[0]! - ys[m - 1]!;
  let hi = xs[n - 1]! - ys[0]!;
  let hiCount = n * m;
  if (countAtMost(xs, ys, minDiff) >= k) return minDiff;
  // Invariant: countAtMost(lo) < k ≤ countAtMost(hi), so the answer is in (lo, hi].
  let lo = minDiff;
  let loCount = countAtMost(xs, ys, lo);
  while (hiCount - loCount > ENUMERATE_LIMIT) {
    const mid = lo / 2 + hi / 2;
    // lo and hi are adjacent doubles: every difference in (lo, hi] equals hi.
    if (!(mid > lo && mid < hi)) return hi;
    const midCount = countAtMost(xs, ys, mid);
    if (midCount >= k) {
      hi = mid;
      hiCount = midCount;
    } else {
      lo = mid;
      loCount = midCount;
    }
  }
  const between = new Float64Array(hiCount - loCount);
  let filled = 0;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const xi = xs[i]!;
    while (p < m && xi - ys[p]! > hi) p++;
    for (let j = p; j < m; j++) {
      const d = xi - ys[j]!;
      if (d <= lo) break;
      between[filled++] = d;
    }
  }
  between.sort();
  return between[k - loCount - 1]!;
}

/**
 * P(Z > z) for a standard normal Z, to about 1e-15 relative accuracy: erfc from its all-positive
 * series for small arguments and its continued fraction in the tail.
 */
function normalUpperTail(z: number): number {
  if (z < 0) return 1 - normalUpperTail(-z);
  const x = z / Math.SQRT2;
  if (x < 3) {
    // erf(x) = 2/√π · e^{-x²} · Σ 2^k x^{2k+1} / (1·3·…·(2k+1))
    let term = x;
    let sum = x;
    for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
      term *= (2 * x * x) / (2 * k + 1);
      sum += term;
    }
    const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
    return 0.5 * (1 - erf);
  }
  // erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the bottom.
  let fraction = x;
  for (let k = 60; k >= 1; k--) fraction = x + k / 2 / fraction;
  return (0.5 * Math.exp(-x * x)) / (Math.sqrt(Math.PI) * fraction);
}

/**
 * The z with P(Z > z) = p, for 0 < p < 1: Abramowitz & Stegun 26.2.23 as the start (error below
 * 4.5e-4), then Newton steps on {@link normalUpperTail} to full precision.
 */
function normalQuantileUpper(p: number): number {
  if (p > 0.5) return -normalQuantileUpper(1 - p);
  const t = Math.sqrt(-2 * Math.log(p));
  let z =
    t -
    (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3);
  for (let i = 0; i < 4; i++) {
    const density = Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
    z += (normalUpperTail(z) - p) / density;
  }
  return z;
}

/** Exposed for tests of the numerical building blocks; not part of the judging API. */
export const internals = { normalUpperTail, normalQuantileUpper, exactUDistribution, kthPairwiseDifference };
