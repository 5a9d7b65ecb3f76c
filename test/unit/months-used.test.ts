import { DateTime } from 'luxon';
import { lastTwelveMonths, monthsUsed } from '../../src/domain/months-used';

const NOW = DateTime.fromISO('2026-11-26T09:00:00Z', { zone: 'utc' });
const month = (ym: string) => DateTime.fromISO(`${ym}-01T00:00:00Z`, { zone: 'utc' });

describe('lastTwelveMonths', () => {
  it('gives the 12 calendar months ending with the current one, the current one ending now', () => {
    const months = lastTwelveMonths(NOW);
    expect(months).toHaveLength(12);
    expect(months[0]!.start.toISO()).toBe('2025-12-01T00:00:00.000Z');
    expect(months[0]!.end.toISO()).toBe('2026-01-01T00:00:00.000Z');
    expect(months[11]!.start.toISO()).toBe('2026-11-01T00:00:00.000Z');
    expect(months[11]!.end.toISO()).toBe(NOW.toISO());
    for (let i = 1; i < 12; i++) expect(months[i]!.start.toMillis()).toBe(months[i - 1]!.end.toMillis());
  });

  it('uses local month starts in the given zone, across daylight saving', () => {
    const months = lastTwelveMonths(NOW, 'Europe/Berlin');
    expect(months[2]!.start.toISO()).toBe('2026-02-01T00:00:00.000+01:00');
    expect(months[4]!.start.toISO()).toBe('2026-04-01T00:00:00.000+02:00');
    expect(months[11]!.start.toISO()).toBe('2026-11-01T00:00:00.000+01:00');
  });
});

describe('monthsUsed', () => {
  it('counts months with a value above zero', () => {
    const r = monthsUsed(
      [
        { month: month('2025-12'), value: 0 },
        { month: month('2026-01'), value: 3 },
        { month: month('2026-02'), value: null },
        { month: month('2026-03'), value: 12.5 },
        { month: month('2026-06'), value: 0.01 },
        { month: month('2026-11'), value: 1 },
      ],
      NOW,
    );
    expect(r.usedCount).toBe(4);
    expect(r.text).toBe('used in 4 of the last 12 months');
    expect(r.months.map((m) => m.used)).toEqual([
      false,
      true,
      false,
      true,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(r.months[1]).toMatchObject({ used: true, value: 3 });
    expect(r.months[2]).toMatchObject({ used: false, value: null });
    expect(r.strip).toBe('▁█░█░░█░░░░█');
    expect(r.initials).toBe('DJFMAMJJASON');
  });

  it('ignores months outside the last 12 and adds up several points in one month', () => {
    const r = monthsUsed(
      [
        { month: month('2025-11'), value: 100 },
        { month: month('2026-12'), value: 100 },
        { month: DateTime.fromISO('2026-05-03T00:00:00Z'), value: 2 },
        { month: DateTime.fromISO('2026-05-20T00:00:00Z'), value: -2 },
        { month: month('2026-07'), value: 4 },
      ],
      NOW,
    );
    expect(r.usedCount).toBe(1);
    expect(r.months[5]).toMatchObject({ value: 0, used: false });
    expect(r.months[7]).toMatchObject({ value: 4, used: true });
  });

  it('says 0 of 12 when there is no data at all', () => {
    const r = monthsUsed([], NOW);
    expect(r.text).toBe('used in 0 of the last 12 months');
    expect(r.strip).toBe('░'.repeat(12));
  });

  it('reads months in the zone of now', () => {
    const berlinNow = NOW.setZone('Europe/Berlin');
    const boundaries = lastTwelveMonths(berlinNow);
    const r = monthsUsed(
      boundaries.map((b, i) => ({ month: b.start, value: i % 3 === 0 ? 1 : 0 })),
      berlinNow,
    );
    expect(r.usedCount).toBe(4);
    expect(r.strip).toBe('█▁▁█▁▁█▁▁█▁▁');
  });
});
