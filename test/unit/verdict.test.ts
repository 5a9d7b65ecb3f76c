import { DateTime } from 'luxon';
import { calendarDaysSince, dayIn } from '../../src/domain/instants';
import type { Expectation } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { compare, deadlineOf, fitLine, isCumulative, isGood, judge } from '../../src/domain/verdict';

function expectation(text: string): Expectation {
  const parsed = parseExpectation(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

const weekly = expectation('x_total >= 200 per week within 30 days');
const monthly = expectation('x_total >= 1000 per month within 30 days');
const launchIso = '2026-10-01T00:00:00.000Z';
const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
const launch = at(launchIso);

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
    const deadline = deadlineOf(weekly, launchIso);
    expect(deadline.toISO()).toBe('2026-10-31T00:00:00.000Z');
    expect(judge({ expectation: weekly, value: 336, at: deadline, deadline }).verdict).toBe('met');
    expect(judge({ expectation: weekly, value: 56, at: deadline, deadline }).verdict).toBe('missed');
  });

  it('counts the deadline in calendar days of the workspace zone (across a DST change)', () => {
    // 2026-10-25 Europe/Berlin leaves summer time: 30 calendar days after 09:00 CEST is 09:00 CET,
    // 30 × 24 h + 1 h later.
    const e = expectation('x_total >= 1 per week within 30 days');
    const deadline = deadlineOf(e, '2026-10-10T07:00:00.000Z', 'Europe/Berlin');
    expect(deadline.toISO()).toBe('2026-11-09T08:00:00.000Z');
  });

  it('gives the same deadline and days in UTC by its shortcut as by calendar arithmetic, whatever the writing of the launch', () => {
    const launches = [
      '2026-10-10T07:00:00.000Z',
      '2024-02-28T23:59:59.999Z',
      '2026-03-29T01:30:00+02:00',
      '2026-10-25T00:30:00.000-0300',
      '2026-06-01T09:00Z',
    ];
    for (const launchedAt of launches) {
      for (const days of [1, 7, 14, 30, 365]) {
        const e = { ...weekly, deadlineDays: days };
        const calendar = DateTime.fromISO(launchedAt, { zone: 'utc' }).plus({ days }).toUTC();
        for (const zone of ['utc', 'UTC', 'Etc/UTC']) {
          const deadline = deadlineOf(e, launchedAt, zone);
          expect(deadline.toISO()).toBe(calendar.toISO());
          expect(deadline.zone.isUniversal && deadline.offset).toBe(0);
          expect(dayIn(launchedAt, zone)).toBe(DateTime.fromISO(launchedAt).toUTC().toISODate());
        }
      }
    }
    // A launch written without its offset is read in the zone (luxon), never in the machine's own.
    expect(deadlineOf(weekly, '2026-10-01T00:00:00', 'utc').toISO()).toBe('2026-10-31T00:00:00.000Z');
    // A date that does not exist is no date, as luxon says, not rolled over into March.
    expect(deadlineOf(weekly, '2026-02-30T09:00:00.000Z', 'utc').isValid).toBe(false);
    expect(dayIn('2026-02-30T09:00:00.000Z', 'utc')).toBeNull();
  });

  it('counts the days since launch by its UTC shortcut as the calendar does, and by the calendar elsewhere', () => {
    const launches = ['2026-10-10T07:00:00.000Z', '2024-02-28T23:59:59.999Z', '2026-06-01T09:00Z'];
    const nows = [
      '2026-10-10T07:00:00.000Z',
      '2026-10-10T23:59:59.999Z',
      '2026-10-11T00:00:00.000Z',
      '2027-03-01T12:00:00.000Z',
    ];
    for (const launchedAt of launches) {
      for (const nowIso of nows) {
        const now = DateTime.fromISO(nowIso, { zone: 'utc' });
        const calendar = Math.floor(
          now.startOf('day').diff(DateTime.fromISO(launchedAt, { zone: 'utc' }).startOf('day'), 'days').days,
        );
        for (const zone of ['utc', 'UTC', 'Etc/UTC'])
          expect(calendarDaysSince(launchedAt, now, zone)).toBe(calendar);
      }
    }
    // Just before midnight in Berlin and just after: a day apart there, the same UTC day.
    const berlinNow = DateTime.fromISO('2026-10-10T22:30:00.000Z', { zone: 'utc' });
    expect(calendarDaysSince('2026-10-10T21:30:00.000Z', berlinNow, 'Europe/Berlin')).toBe(1);
    expect(calendarDaysSince('2026-10-10T21:30:00.000Z', berlinNow, 'UTC')).toBe(0);
    // Across the change back from summer time (25 October 2026): still whole calendar days.
    expect(
      calendarDaysSince(
        '2026-10-24T08:00:00.000Z',
        DateTime.fromISO('2026-10-26T07:00:00.000Z'),
        'Europe/Berlin',
      ),
    ).toBe(2);
  });

  it('a steady rate below the target is at risk, whatever the ramp before first use', () => {
    // First use on day 3; readings at day 10 and day 17 (whole windows after first use) and now,
    // day 20, all at ~168 a week: 168 < 500. The old projection drew a line from the zero at
    // launch and called it on track.
    const e = expectation('x_total >= 500 per week within 30 days');
    const deadline = deadlineOf(e, launchIso);
    const firstUseAt = launch.plus({ days: 3 });
    const j = judge({
      expectation: e,
      value: 168,
      at: launch.plus({ days: 20 }),
      deadline,
      launchedAt: launch,
      firstUseAt,
      cumulative: true,
      history: [
        { at: launch.plus({ days: 7 }), value: 96 }, // window [0, 7]: partly before first use, ignored
        { at: launch.plus({ days: 10 }), value: 168 },
        { at: launch.plus({ days: 17 }), value: 168 },
      ],
    });
    expect(j.verdict).toBe('at risk');
    expect(j.projected).toBeCloseTo(168, 6);
  });

  it('a trend fitted on whole windows after first use can be on track', () => {
    // 100 on day 10, 200 on day 17: +100 a week; the line through them reaches 200 + 100 × 13/7 at day 30.
    const e = expectation('x_total >= 300 per week within 30 days');
    const deadline = deadlineOf(e, launchIso);
    const j = judge({
      expectation: e,
      value: 200,
      at: launch.plus({ days: 17 }),
      deadline,
      launchedAt: launch,
      firstUseAt: launch.plus({ days: 2 }),
      cumulative: true,
      history: [{ at: launch.plus({ days: 10 }), value: 100 }],
    });
    expect(j.verdict).toBe('on track');
    expect(j.projected).toBeCloseTo(200 + (100 * 13) / 7, 6);
  });

  it('scales a month window that is not yet full since first use: on pace is on track', () => {
    // First use at launch; after 7 days, 1000/30 × 7 ≈ 233.3 is exactly on pace for 1000 a month.
    const deadline = deadlineOf(monthly, launchIso);
    const onPace = (1000 / 30) * 7;
    const j = judge({
      expectation: monthly,
      value: onPace,
      at: launch.plus({ days: 7 }),
      deadline,
      launchedAt: launch,
      firstUseAt: launch,
      cumulative: true,
    });
    expect(j.verdict).toBe('on track');
    expect(j.projected).toBeCloseTo(1000, 6);
    // 200 in 7 days is 200 × 30/7 ≈ 857 a month: off pace.
    const off = judge({
      expectation: monthly,
      value: 200,
      at: launch.plus({ days: 7 }),
      deadline,
      launchedAt: launch,
      firstUseAt: launch,
      cumulative: true,
    });
    expect(off.verdict).toBe('at risk');
    expect(off.projected).toBeCloseTo((200 * 30) / 7, 6);
  });

  it('does not scale a gauge or a percentage', () => {
    const ratio = expectation('error_ratio < 2%');
    expect(isCumulative(ratio.metric, ratio.unit)).toBe(false);
    expect(isCumulative(weekly.metric)).toBe(true);
    expect(isCumulative(expectation('queue_depth <= 50').metric)).toBe(false);
    const deadline = deadlineOf(ratio, launchIso);
    const j = judge({
      expectation: ratio,
      value: 0.01,
      at: launch.plus({ days: 10 }),
      deadline,
      launchedAt: launch,
      firstUseAt: launch.plus({ days: 8 }),
      cumulative: false,
    });
    expect(j).toEqual({ verdict: 'on track', projected: 0.01 });
  });

  it('is too early with less than 7 days of use and the target not met yet', () => {
    const deadline = deadlineOf(weekly, launchIso);
    const firstUseAt = launch.plus({ days: 10 });
    const j = judge({
      expectation: weekly,
      value: 20,
      at: firstUseAt.plus({ days: 3 }),
      deadline,
      launchedAt: launch,
      firstUseAt,
      cumulative: true,
    });
    expect(j.verdict).toBe('too early');
    // Met already: no need to wait.
    const met = judge({
      expectation: weekly,
      value: 250,
      at: firstUseAt.plus({ days: 3 }),
      deadline,
      launchedAt: launch,
      firstUseAt,
      cumulative: true,
    });
    expect(met.verdict).toBe('on track');
  });

  it('a per day window needs only a day of data', () => {
    const daily = expectation('x_total >= 10 per day within 30 days');
    const deadline = deadlineOf(daily, launchIso);
    const firstUseAt = launch.plus({ days: 1 });
    const base = { expectation: daily, deadline, launchedAt: launch, firstUseAt, cumulative: true };
    expect(judge({ ...base, value: 4, at: firstUseAt.plus({ hours: 12 }) }).verdict).toBe('too early');
    expect(judge({ ...base, value: 4, at: firstUseAt.plus({ hours: 30 }) }).verdict).toBe('at risk');
  });

  it('without first use: too early for a week after launch, then at risk', () => {
    const deadline = deadlineOf(weekly, launchIso);
    const base = { expectation: weekly, deadline, launchedAt: launch, firstUseAt: null, cumulative: true };
    expect(judge({ ...base, value: 0, at: launch.plus({ days: 6 }) }).verdict).toBe('too early');
    expect(judge({ ...base, value: 0, at: launch.plus({ days: 8 }) }).verdict).toBe('at risk');
    // A first use found later than the reading does not count for it.
    expect(
      judge({ ...base, value: 0, at: launch.plus({ days: 8 }), firstUseAt: launch.plus({ days: 9 }) })
        .verdict,
    ).toBe('at risk');
  });

  it('says no data when the telemetry answered with nothing, never missed', () => {
    const deadline = deadlineOf(weekly, launchIso);
    expect(judge({ expectation: weekly, value: null, at: deadline, deadline }).verdict).toBe('no data');
  });

  it('fits a line no lower than zero', () => {
    const p = fitLine(
      [
        { at: at('2026-10-08T00:00:00Z'), value: 300 },
        { at: at('2026-10-15T00:00:00Z'), value: 10 },
      ],
      at('2026-10-31T00:00:00Z'),
    );
    expect(p).toBe(0);
  });

  it('lets a rollout go on only when met or on track', () => {
    expect(
      ['met', 'on track', 'at risk', 'too early', 'missed', 'no data', 'unknown'].map((v) =>
        isGood(v as never),
      ),
    ).toEqual([true, true, false, false, false, false, false]);
  });
});
