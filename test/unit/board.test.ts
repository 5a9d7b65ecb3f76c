import { GROUP_ORDER, groupBoard, headline, isRetroDue, standingOf } from '../../src/domain/board';
import type { Feature } from '../../src/domain/model';
import { staleFlag } from '../../src/domain/stale-flags';
import { EXPECTATION, feature, NOW } from '../fixtures/board';

const OPTS = { staleFlagDays: 180 };
const daysAgo = (n: number) => NOW.minus({ days: n }).toISO()!;

function idsIn(features: Feature[], key: string): string[] {
  const g = groupBoard(features, NOW, OPTS).find((x) => x.key === key);
  return g!.entries.map((e) => e.feature.id);
}

describe('standingOf', () => {
  it.each([
    [{ status: 'proposed' }, 'no expectation'],
    [{ status: 'measurable', expectation: EXPECTATION }, 'not launched'],
    [{ status: 'launched', launchedAt: daysAgo(3) }, 'waiting for first use'],
    [{ status: 'launched', launchedAt: daysAgo(3), lastVerdict: 'no data' }, 'waiting for first use'],
    [{ status: 'launched', launchedAt: daysAgo(3), lastVerdict: 'at risk' }, 'at risk'],
    [{ status: 'in use', launchedAt: daysAgo(9), firstUseAt: daysAgo(2) }, 'no check yet'],
    [
      { status: 'in use', launchedAt: daysAgo(9), firstUseAt: daysAgo(2), lastVerdict: 'unknown' },
      'no check yet',
    ],
    [
      { status: 'in use', launchedAt: daysAgo(9), firstUseAt: daysAgo(2), lastVerdict: 'on track' },
      'on track',
    ],
    [{ status: 'in use', launchedAt: daysAgo(9), firstUseAt: daysAgo(2), lastVerdict: 'missed' }, 'missed'],
    [{ status: 'met', lastVerdict: 'at risk' }, 'met'],
    [{ status: 'missed' }, 'missed'],
    [{ status: 'decided', decision: { value: 'keep', by: 'U1', at: daysAgo(1) } }, null],
    [{ status: 'dropped' }, null],
  ] as [Partial<Feature>, string | null][])('%j stands in %s', (overrides, expected) => {
    expect(standingOf(feature({ id: 'F-1', ...overrides }))).toBe(expected);
  });
});

describe('groupBoard', () => {
  it('returns every group in the documented order, empty ones included', () => {
    expect(groupBoard([], NOW, OPTS).map((g) => g.key)).toEqual([
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
    ]);
    expect(GROUP_ORDER).toHaveLength(10);
  });

  it('leaves dropped features out entirely, even with a stale flag', () => {
    const dropped = feature({ id: 'F-1', status: 'dropped', flag: { key: 'x', since: daysAgo(400) } });
    const groups = groupBoard([dropped], NOW, OPTS);
    expect(groups.every((g) => g.entries.length === 0)).toBe(true);
  });

  it('puts each live feature in exactly one standing group, sorted by number', () => {
    const features = [
      feature({ id: 'F-10', status: 'proposed' }),
      feature({ id: 'F-2', status: 'proposed' }),
      feature({ id: 'F-3', status: 'launched', launchedAt: daysAgo(1), expectation: EXPECTATION }),
    ];
    expect(idsIn(features, 'no expectation')).toEqual(['F-2', 'F-10']);
    expect(idsIn(features, 'waiting for first use')).toEqual(['F-3']);
  });

  it('lists a feature whose deadline passed without a decision in its standing group and in retro due', () => {
    const f = feature({
      id: 'F-4',
      status: 'missed',
      expectation: EXPECTATION,
      launchedAt: daysAgo(31),
      lastVerdict: 'missed',
    });
    expect(idsIn([f], 'missed')).toEqual(['F-4']);
    expect(idsIn([f], 'retro due')).toEqual(['F-4']);
    const entry = groupBoard([f], NOW, OPTS).find((g) => g.key === 'retro due')!.entries[0]!;
    expect(entry.deadline!.toISO()).toBe(NOW.minus({ days: 1 }).toISO());
  });

  it('orders retro due by deadline, oldest first, and stale flags by age, oldest first', () => {
    const late = (id: string, d: number) =>
      feature({ id, status: 'met', expectation: EXPECTATION, launchedAt: daysAgo(d) });
    expect(idsIn([late('F-1', 40), late('F-2', 90), late('F-3', 60)], 'retro due')).toEqual([
      'F-2',
      'F-3',
      'F-1',
    ]);
    const flagged = (id: string, d: number) => feature({ id, flag: { key: id, since: daysAgo(d) } });
    expect(idsIn([flagged('F-1', 200), flagged('F-2', 300)], 'stale flags')).toEqual(['F-2', 'F-1']);
  });

  it('shows a decided feature only through its flag', () => {
    const kept = feature({
      id: 'F-5',
      status: 'decided',
      decision: { value: 'keep', by: 'U1', at: daysAgo(2) },
      flag: { key: 'bulk-export', since: daysAgo(10) },
    });
    const groups = groupBoard([kept], NOW, OPTS);
    expect(groups.filter((g) => g.entries.length > 0).map((g) => g.key)).toEqual(['stale flags']);
    expect(groups.find((g) => g.key === 'stale flags')!.entries[0]!.staleFlag!.reason).toBe('decided');
  });
});

describe('isRetroDue', () => {
  const base = { status: 'in use' as const, expectation: EXPECTATION, launchedAt: daysAgo(30) };
  it('is due on the deadline itself and after it, not before', () => {
    expect(isRetroDue(feature({ id: 'F-1', ...base }), NOW)).toBe(true);
    expect(isRetroDue(feature({ id: 'F-1', ...base, launchedAt: daysAgo(29) }), NOW)).toBe(false);
  });
  it('is not due once decided, unless the decision was an iterate from an earlier cycle', () => {
    const decided = { value: 'keep' as const, by: 'U1', at: daysAgo(1) };
    expect(isRetroDue(feature({ id: 'F-1', ...base, decision: decided }), NOW)).toBe(false);
    const oldIterate = { value: 'iterate' as const, by: 'U1', at: daysAgo(45) };
    expect(isRetroDue(feature({ id: 'F-1', ...base, decision: oldIterate }), NOW)).toBe(true);
  });
  it('needs a launch and an expectation', () => {
    expect(isRetroDue(feature({ id: 'F-1', status: 'proposed' }), NOW)).toBe(false);
    expect(isRetroDue(feature({ id: 'F-1', status: 'launched', launchedAt: daysAgo(90) }), NOW)).toBe(false);
  });
});

describe('staleFlag', () => {
  it('is stale only once older than staleFlagDays', () => {
    expect(staleFlag(feature({ id: 'F-1', flag: { key: 'k', since: daysAgo(180) } }), NOW, 180)).toBeNull();
    expect(
      staleFlag(feature({ id: 'F-1', flag: { key: 'k', since: daysAgo(181) } }), NOW, 180),
    ).toMatchObject({
      key: 'k',
      ageDays: 181,
      reason: 'old',
    });
  });
  it('is stale at once when the feature is kept or removed, not when it iterates', () => {
    const flag = { key: 'k', since: daysAgo(1) };
    const decided = (value: 'keep' | 'remove' | 'iterate') =>
      feature({ id: 'F-1', status: 'decided', flag, decision: { value, by: 'U1', at: daysAgo(0) } });
    expect(staleFlag(decided('keep'), NOW, 180)?.reason).toBe('decided');
    expect(staleFlag(decided('remove'), NOW, 180)?.reason).toBe('decided');
    expect(staleFlag(decided('iterate'), NOW, 180)).toBeNull();
  });
  it('reads a since without an offset as UTC, and a plain date', () => {
    expect(
      staleFlag(feature({ id: 'F-1', flag: { key: 'k', since: '2026-05-29T09:00:00' } }), NOW, 180)?.ageDays,
    ).toBe(181);
    expect(
      staleFlag(feature({ id: 'F-1', flag: { key: 'k', since: '2026-05-29' } }), NOW, 180)?.ageDays,
    ).toBe(181);
  });
  it('is null without a flag', () => {
    expect(staleFlag(feature({ id: 'F-1' }), NOW, 180)).toBeNull();
  });
});

describe('headline', () => {
  it('counts each group and each feature once', () => {
    const features = [
      feature({ id: 'F-1', status: 'proposed' }),
      feature({ id: 'F-2', status: 'missed', expectation: EXPECTATION, launchedAt: daysAgo(40) }),
      feature({ id: 'F-3', status: 'met', expectation: EXPECTATION, launchedAt: daysAgo(10) }),
      feature({ id: 'F-4', status: 'proposed', flag: { key: 'old', since: daysAgo(365) } }),
    ];
    const h = headline(groupBoard(features, NOW, OPTS));
    expect(h.total).toBe(4);
    expect(h.counts).toMatchObject({
      met: 1,
      missed: 1,
      'no expectation': 2,
      'retro due': 1,
      'stale flags': 1,
    });
    expect(h.text).toBe('4 features: 1 met, 1 missed, 2 without an expectation · 1 retro due · 1 stale flag');
  });
  it('says so when the board is empty', () => {
    expect(headline(groupBoard([], NOW, OPTS)).text).toBe('0 features');
  });
});
