import { DateTime } from 'luxon';
import type { Expectation } from '../../src/domain/model';
import { compare, deadlineOf, isGood, judge, project } from '../../src/domain/verdict';

const e: Expectation = {
  metric: { source: 'prometheus', name: 'x_total', matchers: [] },
  op: '>=',
  target: 200,
  window: 'week',
  deadlineDays: 30,
  text: 'x_total >= 200 per week within 30 days',
};
const launch = '2026-10-01T00:00:00.000Z';
const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });

describe('verdicts', () => {
  it('compares with each operator', () => {
    expect([
      compare(200, '>=', 200),
      compare(200, '>', 200),
      compare(200, '<=', 200),
      compare(200, '<', 200),
    ]).toEqual([true, false, true, false]);
  });

  it('is met or missed at the deadline', () => {
    const deadline = deadlineOf(e, launch);
    expect(deadline.toISO()).toBe('2026-10-31T00:00:00.000Z');
    expect(judge({ expectation: e, value: 336, at: deadline, deadline }).verdict).toBe('met');
    expect(judge({ expectation: e, value: 56, at: deadline, deadline }).verdict).toBe('missed');
  });

  it('is on track or at risk before the deadline, by projection', () => {
    const deadline = deadlineOf(e, launch);
    const history = [{ at: at('2026-10-08T00:00:00Z'), value: 50 }];
    // 50 → 120 in a week: 70 more a week, 260 at the deadline (two weeks later).
    const rising = judge({
      expectation: e,
      value: 120,
      at: at('2026-10-15T00:00:00Z'),
      deadline,
      history: [...history],
    });
    expect(rising.verdict).toBe('on track');
    expect(rising.projected).toBeCloseTo(120 + 70 * (16 / 7), 5);
    const flat = judge({ expectation: e, value: 50, at: at('2026-10-15T00:00:00Z'), deadline, history });
    expect(flat).toEqual({ verdict: 'at risk', projected: 50 });
  });

  it('says no data when the telemetry answered with nothing, never missed', () => {
    const deadline = deadlineOf(e, launch);
    expect(judge({ expectation: e, value: null, at: deadline, deadline }).verdict).toBe('no data');
  });

  it('projects no lower than zero', () => {
    const p = project(
      { at: at('2026-10-15T00:00:00Z'), value: 10 },
      [{ at: at('2026-10-08T00:00:00Z'), value: 300 }],
      at('2026-10-31T00:00:00Z'),
    );
    expect(p).toBe(0);
  });

  it('lets a rollout go on only when met or on track', () => {
    expect(
      ['met', 'on track', 'at risk', 'missed', 'no data', 'unknown'].map((v) => isGood(v as never)),
    ).toEqual([true, true, false, false, false, false]);
  });
});
