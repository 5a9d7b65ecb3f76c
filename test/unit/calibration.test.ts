import {
  actualShare,
  calibrate,
  describeCalibration,
  type JudgedCycle,
  judgedCycles,
} from '../../src/domain/calibration';
import type { Check, Expectation, Feature, Op } from '../../src/domain/model';

function expectation(op: Op, target: number): Expectation {
  return {
    metric: { source: 'prometheus', name: 'bulk_export_total', matchers: [] },
    op,
    target,
    window: 'week',
    deadlineDays: 30,
    text: `bulk_export_total ${op} ${target} per week within 30 days`,
  };
}

function feature(over: Partial<Feature>): Feature {
  return {
    id: 'F-1',
    team: 'T1',
    title: 'Bulk export',
    ownerId: 'U1',
    proposedBy: 'U1',
    status: 'measurable',
    createdAt: '2026-09-01T00:00:00.000Z',
    expectation: expectation('>=', 200),
    ...over,
  };
}

function final(value: number | null, verdict: Check['verdict'], at = '2026-10-31T00:00:00.000Z'): Check {
  return { at, kind: 'final', value, verdict, query: 'q' };
}

function cycle(verdict: 'met' | 'missed', share: number | null): JudgedCycle {
  return {
    featureId: 'F-1',
    title: 't',
    ownerId: 'U1',
    op: '>=',
    target: 100,
    value: share === null ? null : share * 100,
    verdict,
    share,
  };
}

describe('actualShare', () => {
  it('is value ÷ target for at-least targets', () => {
    expect(actualShare('>=', 200, 336)).toBeCloseTo(1.68);
    expect(actualShare('>', 200, 100)).toBeCloseTo(0.5);
  });

  it('is target ÷ value for at-most targets, so above 100% is better in both directions', () => {
    // 2% error ratio wanted, 4% seen: half as good as hoped.
    expect(actualShare('<=', 0.02, 0.04)).toBeCloseTo(0.5);
    // 500 ms wanted, 400 ms seen: better than the target.
    expect(actualShare('<', 500, 400)).toBeCloseTo(1.25);
  });

  it('has no meaning for a missing value, a zero target, or a zero value under an at-most target', () => {
    expect(actualShare('>=', 200, null)).toBeNull();
    expect(actualShare('>=', 0, 10)).toBeNull();
    expect(actualShare('<=', 0.02, 0)).toBeNull();
  });
});

describe('judgedCycles', () => {
  const launched = { launchedAt: '2026-10-01T00:00:00.000Z' };

  it('takes the current cycle from its final check since the launch', () => {
    const f = feature({ ...launched, status: 'met' });
    const cycles = judgedCycles(f, [
      { at: '2026-10-08T00:00:00.000Z', kind: 'scheduled', value: 100, verdict: 'at risk', query: 'q' },
      final(336, 'met'),
    ]);
    expect(cycles).toEqual([expect.objectContaining({ verdict: 'met', value: 336, target: 200 })]);
    expect(cycles[0]!.share).toBeCloseTo(1.68);
  });

  it('ignores a final check of an earlier launch', () => {
    const f = feature({ ...launched, status: 'launched' });
    expect(judgedCycles(f, [final(336, 'met', '2026-09-15T00:00:00.000Z')])).toEqual([]);
  });

  it('counts nothing that was not met or missed at the deadline', () => {
    expect(judgedCycles(feature({ ...launched, status: 'in use' }), [final(null, 'unknown')])).toEqual([]);
    expect(judgedCycles(feature({ status: 'measurable' }))).toEqual([]);
  });

  it('falls back on the status when the final check could not measure and was settled later', () => {
    const cycles = judgedCycles(feature({ ...launched, status: 'missed' }), [final(null, 'unknown')]);
    expect(cycles).toEqual([expect.objectContaining({ verdict: 'missed', value: null, share: null })]);
  });

  it('reads earlier cycles from history, with the value their retro opened with', () => {
    const f = feature({
      status: 'measurable',
      expectation: expectation('>=', 400),
      history: [
        {
          expectation: expectation('>=', 200),
          launchedAt: '2026-06-01T00:00:00.000Z',
          verdict: 'missed',
          retro: {
            channel: 'C1',
            ts: '1.1',
            openedAt: '2026-07-01T00:00:00.000Z',
            cycle: 1,
            launchedAt: '2026-06-01T00:00:00.000Z',
            actual: { value: 40, verdict: 'missed', at: '2026-07-01T00:00:00.000Z' },
          },
        },
      ],
    });
    const cycles = judgedCycles(f);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toMatchObject({ verdict: 'missed', value: 40, target: 200 });
    expect(cycles[0]!.share).toBeCloseTo(0.2);
  });

  it('leaves a dropped feature’s current cycle out', () => {
    expect(judgedCycles(feature({ ...launched, status: 'dropped' }), [final(336, 'met')])).toEqual([]);
  });
});

describe('calibrate and describeCalibration', () => {
  it("writes PRODUCT.md's example from five judged cycles", () => {
    // Shares 0.2, 0.5, 0.64, 1.1, 1.3: three met (the ones at or above their target here), median
    // the third of five sorted (0.64), range 0.2–1.3.
    const c = calibrate([
      cycle('missed', 0.5),
      cycle('met', 1.3),
      cycle('missed', 0.2),
      cycle('met', 1.1),
      cycle('met', 0.64),
    ]);
    expect(c).toEqual({ judged: 5, met: 3, median: 0.64, min: 0.2, max: 1.3 });
    expect(describeCalibration(c)).toBe('met 3 of 5; actuals at a median 64% of target, 20%–130%');
  });

  it('takes the mean of the two middle shares when the count is even', () => {
    const c = calibrate([cycle('met', 1), cycle('met', 1.2), cycle('missed', 0.4), cycle('missed', 0.6)]);
    // Sorted 0.4, 0.6, 1, 1.2: (0.6 + 1) / 2 = 0.8.
    expect(c.median).toBeCloseTo(0.8);
    expect(describeCalibration(c)).toBe('met 2 of 4; actuals at a median 80% of target, 40%–120%');
  });

  it('says how many, without percentages, below three judged', () => {
    expect(describeCalibration(calibrate([cycle('met', 1.5)]))).toBe(
      'met 1 of 1; only one judged expectation so far, too few for percentages (they come from 3 on)',
    );
    expect(describeCalibration(calibrate([cycle('met', 1.5), cycle('missed', 0.5)]))).toBe(
      'met 1 of 2; only 2 judged expectations so far, too few for percentages (they come from 3 on)',
    );
  });

  it('says nothing when nothing was judged', () => {
    expect(describeCalibration(calibrate([]))).toBeNull();
  });

  it('counts a judged cycle without a number in "met N of M" but not in the percentages', () => {
    const c = calibrate([cycle('met', 1.2), cycle('missed', null), cycle('met', 1.0), cycle('missed', 0.5)]);
    expect(c).toMatchObject({ judged: 4, met: 2, min: 0.5, max: 1.2 });
    expect(c.median).toBeCloseTo(1.0);
  });
});
