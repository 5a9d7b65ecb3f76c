import { DateTime } from 'luxon';
import {
  BREACH_AFTER,
  type GuardState,
  guardsOf,
  isBreached,
  isGuarded,
  type Observation,
  RECOVER_AFTER,
  roundOf,
  stepGuard,
} from '../../src/domain/guard';
import type { Feature } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { formatGuard, parseGuard, splitGuards } from '../../src/domain/parse-guard';

describe('guard grammar', () => {
  it('reads guards after an expectation, any number, without changing its text', () => {
    const parsed = parseExpectation(
      'checkout_total >= 500 per week within 30 days guard checkout_error_ratio < 2% over 3h guard http_p95_seconds < 0.5',
    );
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.text).toBe('checkout_total >= 500 per week within 30 days');
    expect(parsed.value.guards).toEqual([
      {
        metric: { source: 'prometheus', name: 'checkout_error_ratio', matchers: [] },
        op: '<',
        target: 0.02,
        unit: '%',
        overSeconds: 3 * 3600,
        text: 'checkout_error_ratio < 2% over 3h',
      },
      {
        metric: { source: 'prometheus', name: 'http_p95_seconds', matchers: [] },
        op: '<',
        target: 0.5,
        overSeconds: 3600,
        text: 'http_p95_seconds < 0.5 over 1h',
      },
    ]);
  });

  it('does not split at `guard` inside quotes or a selector', () => {
    expect(splitGuards('posthog:"guard clicked" >= 5 guard errors_total < 10')).toEqual({
      base: 'posthog:"guard clicked" >= 5',
      clauses: ['errors_total < 10'],
    });
    expect(splitGuards('x_total{team="guard x"} >= 5').clauses).toEqual([]);
  });

  it('answers a bad guard naming the mistake, with an example', () => {
    const cases: [string, RegExp][] = [
      ['bulk_export_total >= 200 guard error_ratio 2%', /`2%` is not a comparison/],
      ['bulk_export_total >= 200 guard error_ratio < lots', /`lots` is not a number/],
      ['bulk_export_total >= 200 guard error_ratio < 2% over 2m', /too short/],
      ['bulk_export_total >= 200 guard error_ratio < 2% over soon', /is not a duration/],
      ['bulk_export_total >= 200 guard error_ratio < 2% per week', /has no `per`/],
      ['bulk_export_total >= 200 guard error_ratio < 2% auto-pause', /`\/donedone guard F-3 … auto-pause`/],
      ['bulk_export_total >= 200 guard', /needs a metric/],
    ];
    for (const [text, error] of cases) {
      const parsed = parseExpectation(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.error).toMatch(error);
        expect(parsed.error).toContain('Example: `guard checkout_error_ratio < 2% over 3h`');
      }
    }
  });

  it('reads auto-pause in the command form, and writes guards back canonically', () => {
    const parsed = parseGuard('error_ratio at most 1.5% over 90m auto-pause', { allowAutoPause: true });
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value).toMatchObject({ op: '<=', target: 0.015, overSeconds: 5400, autoPause: true });
    expect(parsed.value.text).toBe('error_ratio <= 1.5% over 90m');
    expect(formatGuard({ ...parsed.value, overSeconds: 86_400 })).toBe('error_ratio <= 1.5% over 1d');
  });
});

describe('guard rounds', () => {
  const guard = { op: '<' as const, target: 0.02 };
  const bad: Observation = { kind: 'value', value: 0.05 };
  const good: Observation = { kind: 'value', value: 0.01 };
  const run = (observations: Observation[]) => {
    let state: GuardState | undefined;
    const events: string[] = [];
    observations.forEach((o, i) => {
      const step = stepGuard(state, guard, o, (i + 1) * 300_000, `t${i}`);
      if (step) {
        state = step.state;
        if (step.event) events.push(step.event);
      }
    });
    return { state, events };
  };

  it(`tells a breach after ${BREACH_AFTER} bad readings in a row, once, and a recovery after ${RECOVER_AFTER} good ones`, () => {
    expect(run([bad]).events).toEqual([]);
    expect(run([bad, good, bad]).events).toEqual([]);
    const breached = run([bad, bad, bad, bad]);
    expect(breached.events).toEqual(['breach']);
    expect(isBreached(breached.state)).toBe(true);
    expect(breached.state?.episode).toBe(1);
    expect(run([bad, bad, good, bad, good]).events).toEqual(['breach']);
    const recovered = run([bad, bad, good, good, good]);
    expect(recovered.events).toEqual(['breach', 'recovered']);
    expect(isBreached(recovered.state)).toBe(false);
    expect(run([bad, bad, good, good, bad, bad]).state?.episode).toBe(2);
  });

  it('an outage or no data changes nothing, and a round is applied once', () => {
    const outage: Observation = { kind: 'outage' };
    expect(run([bad, outage, bad]).events).toEqual(['breach']);
    expect(run([bad, bad, outage, { kind: 'no data' }, outage]).state?.status).toBe('breached');
    const once = stepGuard(undefined, guard, bad, 600_000, 't');
    expect(stepGuard(once!.state, guard, bad, 600_000, 't')).toBeNull();
    expect(stepGuard(once!.state, guard, bad, 300_000, 't')).toBeNull();
  });

  it('a dismissed breach no longer fails the gate', () => {
    const { state } = run([bad, bad]);
    expect(isBreached({ ...state!, dismissed: state!.episode })).toBe(false);
  });

  it('rounds are whole intervals, the same in every process', () => {
    expect(roundOf(Date.parse('2026-11-01T00:07:12Z'), 300_000)).toBe(Date.parse('2026-11-01T00:05:00Z'));
  });
});

describe('which features are guarded', () => {
  const expectation = parseExpectation(
    'bulk_export_total >= 200 per week within 30 days guard error_ratio < 2%',
  );
  if (!expectation.ok) throw new Error(expectation.error);
  const extra = parseGuard('error_ratio < 2% auto-pause', { allowAutoPause: true });
  if (!extra.ok) throw new Error(extra.error);
  const feature: Feature = {
    id: 'F-1',
    team: 'T1',
    title: 't',
    ownerId: 'U1',
    proposedBy: 'U1',
    status: 'launched',
    createdAt: '2026-10-01T00:00:00Z',
    expectation: expectation.value,
    launchedAt: '2026-10-10T00:00:00.000Z',
  };
  it('from launch to the deadline only', () => {
    const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
    expect(isGuarded(feature, at('2026-10-09T23:59:00Z'))).toBe(false);
    expect(isGuarded(feature, at('2026-10-10T00:00:00Z'))).toBe(true);
    expect(isGuarded(feature, at('2026-11-08T23:59:00Z'))).toBe(true);
    expect(isGuarded(feature, at('2026-11-09T00:00:00Z'))).toBe(false);
    expect(isGuarded({ ...feature, status: 'dropped' }, at('2026-10-20T00:00:00Z'))).toBe(false);
  });
  it('a guard added again with auto-pause replaces the written one', () => {
    expect(guardsOf({ ...feature, guards: [extra.value] })).toEqual([extra.value]);
  });
});
