import { hodgesLehmann, internals, judgeCanary, mannWhitney } from '../../src/domain/canary-stats';

/*
 * Where the expected numbers come from:
 * - R's own `?wilcox.test` examples (the depression-scale data x, y and airquality Ozone, May vs
 *   August), whose published results are W = 35 and W = 127.5, p = 0.0001208.
 * - SciPy 1.17.1, run once and pasted here:
 *   `scipy.stats.mannwhitneyu(x, y, method='exact')` for the exact p-values and
 *   `scipy.stats.mannwhitneyu(x, y, method='asymptotic', use_continuity=True)` for the normal ones
 *   (tie-corrected, two-sided; the same as R's `wilcox.test(x, y, exact=FALSE, correct=TRUE)`).
 * - Hodges-Lehmann intervals by brute force in Python: every pairwise difference sorted, the exact
 *   null distribution of U by enumerating all C(n+m, n) rank sets (q = smallest u with
 *   P(U ≤ u) ≥ α/2, at least 1, interval [d_(q), d_(nm-q+1)]), or the normal k =
 *   floor(nm/2 - scipy.stats.norm.ppf(1-α/2)·√(nm(n+m+1)/12)), interval [d_(k+1), d_(nm-k)].
 */

// R ?wilcox.test: Hollander & Wolfe (1973), p. 69.
const rX = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const rY = [1.15, 0.88, 0.9, 0.74, 1.21];

// R datasets::airquality, Ozone for Month 5 and Month 8 (NA dropped: 26 points each, with ties).
const ozoneMay = [
  41, 36, 12, 18, 28, 23, 19, 8, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, 23, 45, 115, 37,
];
const ozoneAug = [
  39, 9, 16, 78, 35, 66, 122, 89, 110, 44, 28, 65, 22, 59, 23, 31, 44, 21, 9, 45, 168, 73, 76, 118, 84, 85,
];

// numpy default_rng(7): normal(100, 5, 60) and normal(97, 5, 55), rounded to 4 places; no ties.
const large60 = [
  100.0062, 101.4937, 98.6293, 95.547, 97.7266, 95.0418, 100.3007, 106.7011, 97.539, 96.8976, 102.4492,
  101.7844, 100.5271, 95.3477, 99.8537, 103.4765, 93.2789, 97.7119, 90.4939, 93.5523, 90.7913, 98.8245,
  93.6628, 101.3563, 100.7838, 99.0653, 87.4162, 97.3065, 99.7575, 100.5665, 92.3493, 97.6112, 95.1074,
  95.9558, 105.3045, 95.9623, 99.8374, 104.4219, 97.082, 99.4415, 100.5523, 100.3189, 93.8747, 100.3807,
  106.7941, 92.2643, 104.2969, 100.5968, 96.7926, 110.0021, 103.8113, 94.0036, 100.3726, 102.8834, 99.0561,
  103.4146, 99.6674, 103.3362, 107.1926, 96.6217,
];
const large55 = [
  98.0157, 94.6835, 97.6363, 91.064, 94.1035, 96.019, 101.4938, 102.7261, 90.3824, 93.0268, 100.2345, 87.0379,
  94.6842, 96.5136, 103.2851, 100.447, 95.3639, 95.1571, 95.749, 104.6176, 94.8599, 95.4816, 98.7629, 96.3961,
  96.0136, 91.4297, 96.9424, 94.7821, 102.8306, 100.2654, 96.8793, 100.3419, 95.3007, 102.2606, 96.973,
  99.9169, 90.5455, 98.7334, 88.559, 86.8234, 95.4776, 92.5004, 97.8203, 108.2238, 92.8414, 93.8803, 98.027,
  99.4651, 96.118, 95.9703, 100.5123, 99.5995, 91.8316, 96.6041, 97.1764,
];

// The same generator continued: normal(10, 2, 12) and normal(12, 2, 9), rounded to 3 places; no ties.
const small12 = [7.891, 10.52, 8.284, 11.944, 10.385, 10.179, 8.818, 9.763, 6.005, 7.737, 10.726, 5.743];
const small9 = [13.693, 8.508, 13.513, 10.309, 13.558, 12.262, 8.926, 14.498, 14.883];

describe('mannWhitney', () => {
  it('gives the exact p-value of R ?wilcox.test for small samples without ties', () => {
    const r = mannWhitney(rX, rY);
    expect(r.method).toBe('exact');
    expect(r.u).toBe(35);
    // R: one-sided "greater" p = 0.1272; SciPy exact two-sided: 0.2544122544122544.
    expect(r.pValue).toBeCloseTo(0.2544122544122544, 12);
  });

  it('matches SciPy exact for 12 against 9 points', () => {
    const r = mannWhitney(small12, small9);
    expect(r.method).toBe('exact');
    expect(r.u).toBe(17);
    expect(r.pValue).toBeCloseTo(0.00725342768686422, 12);
  });

  it('uses the tie- and continuity-corrected normal approximation with ties (R airquality example)', () => {
    const r = mannWhitney(ozoneMay, ozoneAug);
    expect(r.method).toBe('normal');
    expect(r.u).toBe(127.5);
    // R prints p-value = 0.0001208; SciPy asymptotic, use_continuity=True: 0.00012080783076877434.
    expect(r.pValue).toBeCloseTo(0.00012080783076877434, 12);
    expect(r.pValue / 0.00012080783076877434).toBeCloseTo(1, 10);
    expect(r.z).toBeLessThan(0);
  });

  it('uses the normal approximation once a sample has 50 points or more, even without ties', () => {
    const r = mannWhitney(large60, large55);
    expect(r.method).toBe('normal');
    expect(r.u).toBe(2167);
    expect(r.pValue).toBeCloseTo(0.0038298706335443272, 12);
  });

  it('is symmetric: swapping the samples mirrors U and keeps p', () => {
    const a = mannWhitney(ozoneMay, ozoneAug);
    const b = mannWhitney(ozoneAug, ozoneMay);
    expect(a.u + b.u).toBe(26 * 26);
    expect(b.z).toBeCloseTo(-a.z, 12);
    expect(b.pValue).toBeCloseTo(a.pValue, 15);
    const c = mannWhitney(rY, rX);
    expect(c.u).toBe(50 - 35);
    expect(c.pValue).toBeCloseTo(0.2544122544122544, 12);
  });

  it('gives p = 1 and z = 0 when every value is the same', () => {
    expect(mannWhitney([5, 5, 5], [5, 5])).toEqual({ u: 3, z: 0, pValue: 1, method: 'normal' });
  });

  it('refuses an empty sample', () => {
    expect(() => mannWhitney([], [1, 2])).toThrow(RangeError);
  });
});

describe('exact null distribution of U', () => {
  it('matches the counts from enumerating all rank sets for n = 4, m = 3', () => {
    // Python: counts of sum(ranks) - 10 over itertools.combinations(range(1, 8), 4); total C(7, 4) = 35.
    const counts = [1, 1, 2, 3, 4, 4, 5, 4, 4, 3, 2, 1, 1];
    const dist = Array.from(internals.exactUDistribution(4, 3));
    expect(dist).toHaveLength(counts.length);
    dist.forEach((p, u) => {
      expect(p).toBeCloseTo(counts[u]! / 35, 14);
    });
  });

  it('sums to 1 at the largest exact size', () => {
    const dist = internals.exactUDistribution(49, 49);
    expect(dist.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
    expect(dist[0]).toBeGreaterThan(0);
  });
});

describe('normal distribution helpers', () => {
  it('agree with SciPy', () => {
    // scipy.stats.norm.sf(-1.96), norm.sf(5), norm.ppf(0.99)
    expect(internals.normalUpperTail(-1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(internals.normalUpperTail(5) / 2.866515718791933e-7).toBeCloseTo(1, 12);
    expect(internals.normalQuantileUpper(0.01)).toBeCloseTo(2.3263478740408408, 12);
    expect(internals.normalQuantileUpper(0.025)).toBeCloseTo(1.959963984540054, 12);
  });
});

describe('hodgesLehmann', () => {
  it('gives the exact interval for small samples without ties (R ?wilcox.test data)', () => {
    const r = hodgesLehmann(rX, rY, 0.95);
    expect(r.method).toBe('exact');
    expect(r.estimate).toBeCloseTo(0.305, 12);
    expect(r.low).toBeCloseTo(-0.15, 12);
    expect(r.high).toBeCloseTo(0.76, 12);
  });

  it('gives the exact interval at 98% and 90% for 12 against 9 points', () => {
    const r98 = hodgesLehmann(small12, small9, 0.98);
    expect(r98.estimate).toBeCloseTo(-3.321, 12);
    expect(r98.low).toBeCloseTo(-5.802, 12);
    expect(r98.high).toBeCloseTo(-0.546, 12);
    const r90 = hodgesLehmann(small12, small9, 0.9);
    expect(r90.low).toBeCloseTo(-4.875, 12);
    expect(r90.high).toBeCloseTo(-1.614, 12);
  });

  it('gives the normal-approximation interval with ties (airquality)', () => {
    expect(hodgesLehmann(ozoneMay, ozoneAug, 0.95)).toEqual({
      estimate: -32,
      low: -53,
      high: -15,
      method: 'normal',
    });
  });

  it('gives the normal-approximation interval for 60 against 55 points', () => {
    const r = hodgesLehmann(large60, large55, 0.98);
    expect(r.method).toBe('normal');
    expect(r.estimate).toBeCloseTo(2.48435, 10);
    expect(r.low).toBeCloseTo(0.4375, 10);
    expect(r.high).toBeCloseTo(4.3053, 10);
  });

  it('refuses a confidence outside (0, 1)', () => {
    expect(() => hodgesLehmann(rX, rY, 1)).toThrow(RangeError);
    expect(() => hodgesLehmann(rX, rY, 0)).toThrow(RangeError);
  });
});

describe('k-th pairwise difference', () => {
  // A fixed linear congruential generator so the cases are the same on every run.
  function lcg(seed: number): () => number {
    let s = seed;
    return () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
  }
  function bruteForce(x: number[], y: number[]): number[] {
    return x.flatMap((a) => y.map((b) => a - b)).sort((a, b) => a - b);
  }
  function sorted(values: number[]): Float64Array {
    return Float64Array.from(values).sort();
  }

  it('equals sorting every difference, for small samples with ties', () => {
    const rand = lcg(1);
    const x = Array.from({ length: 17 }, () => Math.round(rand() * 20));
    const y = Array.from({ length: 11 }, () => Math.round(rand() * 20) / 2);
    const all = bruteForce(x, y);
    for (let k = 1; k <= all.length; k++) {
      expect(internals.kthPairwiseDifference(sorted(x), sorted(y), k)).toBe(all[k - 1]);
    }
  });

  it('equals sorting every difference when there are too many to list at once (bisection path)', () => {
    const rand = lcg(2);
    const x = Array.from({ length: 400 }, () => rand() * 1000);
    const y = Array.from({ length: 300 }, () => Math.round(rand() * 50) * 10);
    const all = bruteForce(x, y);
    for (const k of [1, 2, 777, 60000, 60001, 119999, 120000]) {
      expect(internals.kthPairwiseDifference(sorted(x), sorted(y), k)).toBe(all[k - 1]);
    }
  });

  it('handles a run of equal differences too long to list at once', () => {
    // 84,000 of the 90,000 differences are 0: bisection narrows to adjacent doubles around 0.
    const x = Array.from({ length: 300 }, (_, i) => (i < 10 ? 0 : i < 290 ? 1 : 2));
    const y = new Array<number>(300).fill(1);
    const all = bruteForce(x, y);
    for (const k of [1, 3000, 3001, 45000, 87000, 87001, 90000]) {
      expect(internals.kthPairwiseDifference(sorted(x), sorted(y), k)).toBe(all[k - 1]);
    }
  });
});

describe('judgeCanary', () => {
  // Dollars per minute on the other nodes, around 100.
  const baseline = [
    101.2, 98.7, 100.4, 99.1, 102.3, 97.8, 100.9, 99.6, 101.7, 98.2, 100.1, 99.9, 102.8, 97.4, 100.6, 99.3,
    101.1, 98.9, 100.3, 99.7,
  ];

  // Expected values below: the brute-force Python above, with the percent taken of the baseline median.
  it('passes identical samples, with p = 1 and no difference', () => {
    const j = judgeCanary(baseline, baseline);
    expect(j).toMatchObject({ kind: 'judged', ok: true, verdict: 'pass', difference: 0, pValue: 1 });
    if (j.kind !== 'judged') throw new Error('expected a judgement');
    expect(j.low).toBeCloseTo(-1.2, 9);
    expect(j.high).toBeCloseTo(1.2, 9);
    expect(j.canaryMedian).toBe(100);
    expect(j.baselineMedian).toBe(100);
  });

  it('holds a canary that makes a quarter less', () => {
    const worse = [76.1, 74.8, 77.3, 75.5, 73.9, 76.8, 75.2, 74.4, 77.9, 75.9, 76.4, 74.1];
    const j = judgeCanary(worse, baseline);
    if (j.kind !== 'judged') throw new Error('expected a judgement');
    expect(j.verdict).toBe('hold');
    expect(j.ok).toBe(false);
    expect(j.difference).toBeCloseTo(-24.3, 9);
    expect(j.low).toBeCloseTo(-25.6, 9);
    expect(j.high).toBeCloseTo(-23.0, 9);
    // SciPy mannwhitneyu(worse, baseline, method='exact').pvalue
    expect(j.pValue / 8.857676797900235e-9).toBeCloseTo(1, 9);
    expect(j).toMatchObject({
      canaryMedian: 75.7,
      baselineMedian: 100,
      canaryPoints: 12,
      baselinePoints: 20,
      percentOf: 'baseline median',
      method: 'exact',
    });
  });

  const slightlyWorse = [97.3, 96.1, 98.4, 96.8, 97.9, 95.6, 97.1, 96.5, 98.8, 96.2, 97.6, 96.9];

  it('passes a canary that is surely but only slightly worse, within the tolerance', () => {
    const j = judgeCanary(slightlyWorse, baseline);
    if (j.kind !== 'judged') throw new Error('expected a judgement');
    expect(j.verdict).toBe('pass');
    expect(j.ok).toBe(true);
    expect(j.difference).toBeCloseTo(-2.9, 9);
    expect(j.low).toBeCloseTo(-4.1, 9);
    expect(j.high).toBeCloseTo(-1.7, 9);
    // Significant (SciPy exact: 1.2312170749081327e-06), but less than 10% worse.
    expect(j.pValue / 1.2312170749081327e-6).toBeCloseTo(1, 9);
  });

  it('holds the same canary when the tolerance is 1%', () => {
    expect(judgeCanary(slightlyWorse, baseline, { tolerance: 0.01 })).toMatchObject({
      verdict: 'hold',
      ok: false,
    });
  });

  it('passes a canary that is better than the baseline', () => {
    const better = baseline.map((v) => v * 1.3);
    expect(judgeCanary(better, baseline)).toMatchObject({ kind: 'judged', verdict: 'pass', ok: true });
  });

  describe('lower is better (latency in ms)', () => {
    const latencyBaseline = [212, 198, 205, 220, 201, 195, 210, 207, 199, 215, 203, 209];
    const latencyCanary = [262, 255, 270, 248, 266, 259, 251, 274, 257, 263];

    it('holds a slower canary', () => {
      const j = judgeCanary(latencyCanary, latencyBaseline, { higherIsBetter: false });
      if (j.kind !== 'judged') throw new Error('expected a judgement');
      expect(j.verdict).toBe('hold');
      expect(j.difference).toBeCloseTo(26.21359223300971, 9);
      expect(j.low).toBeCloseTo(21.844660194174757, 9);
      expect(j.high).toBeCloseTo(31.067961165048544, 9);
      expect(j.pValue / 3.092882349848294e-6).toBeCloseTo(1, 9);
      expect(j.baselineMedian).toBe(206);
      expect(j.canaryMedian).toBe(260.5);
    });

    it('passes the same numbers when higher is better', () => {
      expect(judgeCanary(latencyCanary, latencyBaseline, { higherIsBetter: true })).toMatchObject({
        verdict: 'pass',
      });
    });

    it('passes a faster canary', () => {
      expect(
        judgeCanary(
          latencyBaseline.map((v) => v * 0.5),
          latencyBaseline,
          { higherIsBetter: false },
        ),
      ).toMatchObject({ verdict: 'pass', ok: true });
    });
  });

  describe('ties and a baseline median of 0 (errors per minute)', () => {
    const errorsCanary = [2, 3, 1, 4, 2, 5, 3, 2, 4, 3];

    it('takes the percent of the baseline mean when its median is 0', () => {
      const errorsBaseline = [0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 1];
      const j = judgeCanary(errorsCanary, errorsBaseline, { higherIsBetter: false });
      if (j.kind !== 'judged') throw new Error('expected a judgement');
      // Hodges-Lehmann shift 3 errors/minute over the baseline mean 5/15: 900%.
      expect(j).toMatchObject({
        verdict: 'hold',
        percentOf: 'baseline mean',
        method: 'normal',
        baselineMedian: 0,
      });
      expect(j.difference).toBeCloseTo(900, 9);
      expect(j.low).toBeCloseTo(600, 9);
      expect(j.high).toBeCloseTo(1200, 9);
      // SciPy asymptotic, use_continuity=True: 3.973351631021957e-05.
      expect(j.pValue / 3.973351631021957e-5).toBeCloseTo(1, 9);
    });

    it('takes the percent of both samples together when the baseline is all zeros', () => {
      const j = judgeCanary(errorsCanary, new Array(12).fill(0), { higherIsBetter: false });
      if (j.kind !== 'judged') throw new Error('expected a judgement');
      expect(j).toMatchObject({ verdict: 'hold', percentOf: 'pooled mean' });
      expect(j.difference).toBeCloseTo(227.58620689655174, 9);
      expect(Number.isFinite(j.low) && Number.isFinite(j.high)).toBe(true);
    });

    it('calls all zeros on both sides no difference', () => {
      expect(judgeCanary(new Array(10).fill(0), new Array(12).fill(0))).toMatchObject({
        verdict: 'pass',
        difference: 0,
        low: 0,
        high: 0,
        pValue: 1,
      });
    });
  });

  describe('too few points', () => {
    it('says how many the canary has and how many are needed', () => {
      expect(judgeCanary([1, 2, 3], baseline)).toEqual({
        kind: 'insufficient',
        reason: 'the canary has 3 points over the window; at least 10 are needed',
      });
    });

    it('counts only finite numbers', () => {
      const gappy = [1, Number.NaN, 2, undefined, null, Number.POSITIVE_INFINITY, 3, 4, 5, 6, 7, 8, 9];
      expect(judgeCanary(gappy, baseline)).toEqual({
        kind: 'insufficient',
        reason: 'the canary has 9 points over the window; at least 10 are needed',
      });
      const j = judgeCanary([...gappy, 10], [...baseline, Number.NaN]);
      expect(j).toMatchObject({ kind: 'judged', canaryPoints: 10, baselinePoints: 20 });
    });

    it('names the baseline, or both, when they are short', () => {
      expect(judgeCanary(baseline, [1])).toEqual({
        kind: 'insufficient',
        reason: 'the baseline has 1 point over the window; at least 10 are needed',
      });
      expect(judgeCanary([], [], { minPoints: 5 })).toEqual({
        kind: 'insufficient',
        reason:
          'the canary has 0 points and the baseline 0 points over the window; at least 5 are needed in each',
      });
    });

    it('honours minPoints', () => {
      expect(judgeCanary([1, 2, 3], [2, 3, 4], { minPoints: 3 })).toMatchObject({ kind: 'judged' });
    });
  });

  it('refuses options out of range', () => {
    expect(() => judgeCanary(baseline, baseline, { confidence: 1.5 })).toThrow(/confidence/);
    expect(() => judgeCanary(baseline, baseline, { tolerance: -0.1 })).toThrow(/tolerance/);
    expect(() => judgeCanary(baseline, baseline, { minPoints: 0 })).toThrow(/minPoints/);
  });
});
