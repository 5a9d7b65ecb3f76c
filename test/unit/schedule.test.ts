import { DateTime } from 'luxon';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { checkpoints, launchHourOf, parseLaunchAt, planCatchUp } from '../../src/domain/schedule';

const e = (() => {
  const r = parseExpectation('x_total >= 200 per week within 30 days');
  if (!r.ok) throw new Error(r.error);
  return r.value;
})();
const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });

describe('checkpoints', () => {
  it('checks every week after launch and once at the deadline', () => {
    expect(checkpoints(e, '2026-10-01T00:00:00.000Z').map((c) => `${c.at.toISODate()} ${c.kind}`)).toEqual([
      '2026-10-08 scheduled',
      '2026-10-15 scheduled',
      '2026-10-22 scheduled',
      '2026-10-29 scheduled',
      '2026-10-31 final',
    ]);
  });

  it('lets the final check replace a weekly one on the same day', () => {
    const fourWeeks = { ...e, deadlineDays: 28 };
    expect(checkpoints(fourWeeks, '2026-10-01T00:00:00.000Z').map((c) => c.kind)).toEqual([
      'scheduled',
      'scheduled',
      'scheduled',
      'final',
    ]);
  });
});

describe('planCatchUp (a fake clock)', () => {
  const all = checkpoints(e, '2026-10-01T00:00:00.000Z');

  it('posts only the latest due intermediate check, and the final one', () => {
    const plan = planCatchUp(all, utc('2026-11-01T00:00:00Z'));
    expect(plan.due.map((c) => `${c.at.toISODate()} ${c.post}`)).toEqual([
      '2026-10-08 false',
      '2026-10-15 false',
      '2026-10-22 false',
      '2026-10-29 true',
      '2026-10-31 true',
    ]);
    expect(plan.future).toEqual([]);
  });

  it('schedules what is not due yet', () => {
    const plan = planCatchUp(all, utc('2026-10-16T12:00:00Z'));
    expect(plan.due.map((c) => c.post)).toEqual([false, true]);
    expect(plan.future.map((c) => c.at.toISODate())).toEqual(['2026-10-22', '2026-10-29', '2026-10-31']);
  });

  it('a launch today has nothing due', () => {
    expect(planCatchUp(all, utc('2026-10-01T00:00:00Z')).due).toEqual([]);
  });
});

describe('parseLaunchAt', () => {
  const now = utc('2026-11-01T15:00:00Z');
  it('defaults to now and reads past dates and date-times', () => {
    expect(parseLaunchAt(undefined, now)).toEqual({ ok: true, at: now });
    expect(parseLaunchAt('2026-10-01', now)).toMatchObject({ ok: true });
    expect(parseLaunchAt('2026-11-01', now)).toMatchObject({ ok: true });
    const r = parseLaunchAt('2026-10-01T12:30:00+02:00', now);
    expect(r.ok && r.at.toISO()).toBe('2026-10-01T10:30:00.000Z');
  });
  it.each([
    ['2026-13-45', 'is not a date'],
    ['yesterday', 'is not a date'],
    ['2026-11-02', 'is in the future'],
    ['2026-11-01T16:00:00Z', 'is in the future'],
  ])('refuses %s', (text, message) => {
    const r = parseLaunchAt(text, now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});

describe('launchHourOf', () => {
  it('anchors hours at the launch instant, not at the clock', () => {
    const launch = utc('2026-10-01T10:30:00Z');
    // 12:10 lies in the third hour after launch, [12:30 - 1h, 12:30) = [11:30, 12:30).
    expect(launchHourOf(launch, utc('2026-10-01T12:10:00Z')).toISO()).toBe('2026-10-01T11:30:00.000Z');
    expect(launchHourOf(launch, utc('2026-10-01T10:30:00Z')).toISO()).toBe('2026-10-01T10:30:00.000Z');
  });
});

describe('dates in the workspace zone', () => {
  it('a launch date is the start of that day in the zone, and checks keep their wall-clock time', () => {
    const now = utc('2026-11-01T12:00:00Z');
    const r = parseLaunchAt('2026-10-20', now, 'Europe/Berlin');
    expect(r.ok && r.at.toISO()).toBe('2026-10-19T22:00:00.000Z');
    const e = { deadlineDays: 14, window: 'week' } as never;
    // Berlin leaves summer time on 25 Oct: midnight is 22:00 UTC before, 23:00 UTC after.
    expect(checkpoints(e, '2026-10-19T22:00:00.000Z', 'Europe/Berlin').map((c) => c.at.toISO())).toEqual([
      '2026-10-26T23:00:00.000Z',
      '2026-11-02T23:00:00.000Z',
    ]);
  });

  it('today in the zone is not the future, even when it is still yesterday in UTC', () => {
    // 23:30 in Berlin on 1 Nov is 22:30 UTC: 2026-11-01 is today there.
    const now = utc('2026-11-01T22:30:00Z');
    expect(parseLaunchAt('2026-11-02', now, 'Pacific/Auckland').ok).toBe(true);
    expect(parseLaunchAt('2026-11-02', now, 'Europe/Berlin').ok).toBe(false);
  });
});
