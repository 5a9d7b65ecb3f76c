import { DateTime } from 'luxon';
import {
  type DigestSchedule,
  describeSchedule,
  nextRuns,
  parseDigestSchedule,
} from '../../src/domain/digest-schedule';

function parsed(text: string, zone = 'UTC') {
  const r = parseDigestSchedule(text, zone);
  if (!r.ok) throw new Error(r.error);
  return r;
}

function error(text: string, zone = 'UTC'): string {
  const r = parseDigestSchedule(text, zone);
  if (r.ok) throw new Error(`expected ${text} to fail`);
  return r.error;
}

describe('parseDigestSchedule', () => {
  it.each([
    ['every monday 09:00 Europe/Berlin', { days: 1, hour: 9, minute: 0, tz: 'Europe/Berlin' }, '0 9 * * 1'],
    ['every day 18:30', { days: 'day', hour: 18, minute: 30, tz: 'UTC' }, '30 18 * * *'],
    ['every fri 9:00 America/New_York', { days: 5, hour: 9, minute: 0, tz: 'America/New_York' }, '0 9 * * 5'],
    ['every Sunday 23:59 asia/tokyo', { days: 7, hour: 23, minute: 59, tz: 'Asia/Tokyo' }, '59 23 * * 0'],
    ['digest every TUE 00:00', { days: 2, hour: 0, minute: 0, tz: 'UTC' }, '0 0 * * 2'],
    ['  every   thurs  07:05  ', { days: 4, hour: 7, minute: 5, tz: 'UTC' }, '5 7 * * 4'],
    [
      'every Monday at 09:00 (Europe/Berlin)',
      { days: 1, hour: 9, minute: 0, tz: 'Europe/Berlin' },
      '0 9 * * 1',
    ],
  ])('reads %s', (text, schedule, cron) => {
    const r = parsed(text);
    expect(r.schedule).toEqual(schedule);
    expect(r.cron).toBe(cron);
  });

  it('uses the default zone when none is given', () => {
    expect(parsed('every day 08:00', 'America/New_York').schedule.tz).toBe('America/New_York');
  });

  it('falls back to UTC when the default zone is not valid', () => {
    expect(parsed('every day 08:00', 'Mars/Olympus').schedule.tz).toBe('UTC');
  });

  const EXAMPLE = '`/donedone digest every monday 09:00 Europe/Berlin`';

  it.each([
    ['', 'Say when to post the digest'],
    ['   ', 'Say when to post the digest'],
    ['monday 09:00', 'starts with `every`'],
    ['every', 'Missing the day'],
    ['every funday 09:00', '`funday` is not a weekday'],
    ['every weekday 09:00', '`weekday` is not a weekday'],
    ['every monday', 'Missing the time'],
    ['every monday 25:00', '`25:00` is not a time of day'],
    ['every monday 09:60', '`09:60` is not a time of day'],
    ['every monday 9', '`9` is not a time of day'],
    ['every monday 9am', '`9am` is not a time of day'],
    ['every monday 09.30', '`09.30` is not a time of day'],
    ['every monday 123:00', '`123:00` is not a time of day'],
    ['every monday 09:00 Europe/Berln', '`Europe/Berln` is not a time zone I know'],
    ['every monday 09:00 CEST', '`CEST` is not a time zone I know'],
    ['every monday 09:00 Europe/Berlin please', 'I did not understand `please`'],
  ])('rejects %j naming the problem with an example', (text, problem) => {
    const message = error(text);
    expect(message).toContain(problem);
    expect(message).toContain(EXAMPLE);
  });
});

describe('nextRuns', () => {
  const schedule = (text: string) => parsed(text).schedule;
  const utc = (runs: DateTime[]) => runs.map((r) => r.toUTC().toISO({ suppressMilliseconds: true }));
  const local = (runs: DateTime[]) => runs.map((r) => r.toISO({ suppressMilliseconds: true }));

  it('holds 09:00 in Berlin across the spring change (29 March 2026)', () => {
    const from = DateTime.fromISO('2026-03-27T12:00:00Z');
    const runs = nextRuns(schedule('every day 09:00 Europe/Berlin'), from, 4);
    expect(local(runs)).toEqual([
      '2026-03-28T09:00:00+01:00',
      '2026-03-29T09:00:00+02:00',
      '2026-03-30T09:00:00+02:00',
      '2026-03-31T09:00:00+02:00',
    ]);
    expect(utc(runs)).toEqual([
      '2026-03-28T08:00:00Z',
      '2026-03-29T07:00:00Z',
      '2026-03-30T07:00:00Z',
      '2026-03-31T07:00:00Z',
    ]);
  });

  it('holds Monday 09:00 in Berlin across the autumn change (25 October 2026)', () => {
    const from = DateTime.fromISO('2026-10-15T00:00:00Z');
    const runs = nextRuns(schedule('every monday 09:00 Europe/Berlin'), from, 3);
    expect(utc(runs)).toEqual(['2026-10-19T07:00:00Z', '2026-10-26T08:00:00Z', '2026-11-02T08:00:00Z']);
    expect(runs.every((r) => r.hour === 9 && r.minute === 0 && r.weekday === 1)).toBe(true);
  });

  it('moves a time inside the spring gap to after it, and runs a doubled autumn time once', () => {
    const gap = nextRuns(
      schedule('every sunday 02:30 Europe/Berlin'),
      DateTime.fromISO('2026-03-28T00:00:00Z'),
      1,
    );
    expect(local(gap)).toEqual(['2026-03-29T03:30:00+02:00']);
    const twice = nextRuns(
      schedule('every day 02:30 Europe/Berlin'),
      DateTime.fromISO('2026-10-24T12:00:00Z'),
      2,
    );
    expect(local(twice)).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00']);
  });

  it('holds Friday 09:00 in New York across 8 March and 1 November 2026', () => {
    const march = nextRuns(
      schedule('every fri 9:00 America/New_York'),
      DateTime.fromISO('2026-03-01T00:00:00Z'),
      2,
    );
    expect(utc(march)).toEqual(['2026-03-06T14:00:00Z', '2026-03-13T13:00:00Z']);
    const november = nextRuns(
      schedule('every fri 9:00 America/New_York'),
      DateTime.fromISO('2026-10-25T00:00:00Z'),
      2,
    );
    expect(utc(november)).toEqual(['2026-10-30T13:00:00Z', '2026-11-06T14:00:00Z']);
  });

  it('starts strictly after from, and later the same day when the time is still ahead', () => {
    const s = schedule('every day 18:30 UTC');
    expect(utc(nextRuns(s, DateTime.fromISO('2026-11-26T18:30:00Z'), 1))).toEqual(['2026-11-27T18:30:00Z']);
    expect(utc(nextRuns(s, DateTime.fromISO('2026-11-26T18:29:00Z'), 1))).toEqual(['2026-11-26T18:30:00Z']);
  });

  it('gives nothing for n = 0', () => {
    expect(nextRuns(schedule('every day 18:30'), DateTime.fromISO('2026-11-26T00:00:00Z'), 0)).toEqual([]);
  });
});

describe('describeSchedule', () => {
  it('writes what parseDigestSchedule reads back', () => {
    const s = parsed('every sat 7:05 America/New_York').schedule;
    expect(parsed(describeSchedule(s)).schedule).toEqual(s);
  });

  it.each([
    [{ days: 1, hour: 9, minute: 0, tz: 'Europe/Berlin' }, 'every Monday at 09:00 (Europe/Berlin)'],
    [{ days: 'day', hour: 18, minute: 30, tz: 'UTC' }, 'every day at 18:30 (UTC)'],
    [{ days: 7, hour: 7, minute: 5, tz: 'America/New_York' }, 'every Sunday at 07:05 (America/New_York)'],
  ] as [DigestSchedule, string][])('%j reads %s', (s, text) => {
    expect(describeSchedule(s)).toBe(text);
  });
});
