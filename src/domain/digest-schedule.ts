import { type DateTime, IANAZone } from 'luxon';

/** 1 = Monday … 7 = Sunday, as luxon counts weekdays. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface DigestSchedule {
  days: 'day' | Weekday;
  hour: number;
  minute: number;
  /** IANA zone, canonical spelling (e.g. `Europe/Berlin`). */
  tz: string;
}

export type ParseScheduleResult =
  | {
      ok: true;
      schedule: DigestSchedule;
      /** A 5-field cron pattern for BullMQ's `upsertJobScheduler({ pattern, tz: schedule.tz })`; Sunday is 0. */
      cron: string;
    }
  | { ok: false; error: string };

const EXAMPLE = '`/donedone digest every monday 09:00 Europe/Berlin`';

const WEEKDAYS: Record<string, Weekday> = {
  monday: 1,
  mon: 1,
  tuesday: 2,
  tue: 2,
  tues: 2,
  wednesday: 3,
  wed: 3,
  thursday: 4,
  thu: 4,
  thur: 4,
  thurs: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
  sunday: 7,
  sun: 7,
};

const DAY_NAMES = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The zone's canonical name when it is a valid IANA zone, else null. */
export function canonicalZone(zone: string): string | null {
  if (!IANAZone.isValidZone(zone)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

function fail(error: string): ParseScheduleResult {
  return { ok: false, error };
}

/**
 * Parses `every <weekday|day> [at] HH:MM [Area/City]` (a leading `digest` is allowed; so is a zone in
 * parentheses, so what `describeSchedule` writes reads back). Without a zone the schedule
 * uses `defaultZone` (the asker's Slack time zone, else DONEDONE_TIMEZONE); an invalid default falls back to UTC.
 * Mistakes are answered with a message naming the problem and a correct example, never thrown.
 */
export function parseDigestSchedule(input: string, defaultZone: string): ParseScheduleResult {
  const words = input.trim().split(/\s+/).filter(Boolean);
  if (words[0]?.toLowerCase() === 'digest') words.shift();
  if (words.length === 0) {
    return fail(`Say when to post the digest: a day, a time and optionally a time zone, e.g. ${EXAMPLE}.`);
  }
  if (words[0]!.toLowerCase() !== 'every') {
    return fail(
      `A digest schedule starts with \`every\`, e.g. ${EXAMPLE} or \`/donedone digest every day 18:30\`.`,
    );
  }
  const dayWord = words[1];
  if (dayWord === undefined) {
    return fail(`Missing the day: say \`day\` or a weekday after \`every\`, e.g. ${EXAMPLE}.`);
  }
  let days: DigestSchedule['days'];
  const lowerDay = dayWord.toLowerCase();
  if (lowerDay === 'day' || lowerDay === 'daily') {
    days = 'day';
  } else {
    const weekday = WEEKDAYS[lowerDay];
    if (weekday === undefined) {
      return fail(
        `\`${dayWord}\` is not a weekday: use \`day\` or monday…sunday (mon…sun), e.g. ${EXAMPLE}.`,
      );
    }
    days = weekday;
  }
  // "every Monday at 09:00 (Europe/Berlin)", as describeSchedule writes it, reads back.
  if (words[2]?.toLowerCase() === 'at') words.splice(2, 1);
  if (words[3] !== undefined) words[3] = words[3].replace(/^\((.*)\)$/, '$1');
  const timeWord = words[2];
  if (timeWord === undefined) {
    return fail(`Missing the time: give it as 24-hour HH:MM after the day, e.g. ${EXAMPLE}.`);
  }
  const time = /^(\d{1,2}):(\d{2})$/.exec(timeWord);
  const hour = time ? Number(time[1]) : Number.NaN;
  const minute = time ? Number(time[2]) : Number.NaN;
  if (!time || hour > 23 || minute > 59) {
    return fail(`\`${timeWord}\` is not a time of day: use 24-hour HH:MM (00:00 to 23:59), e.g. ${EXAMPLE}.`);
  }
  let tz: string;
  const zoneWord = words[3];
  if (zoneWord === undefined) {
    tz = canonicalZone(defaultZone) ?? 'UTC';
  } else {
    const zone = canonicalZone(zoneWord);
    if (zone === null) {
      return fail(
        `\`${zoneWord}\` is not a time zone I know: use an IANA name like Europe/Berlin or America/New_York, e.g. ${EXAMPLE}.`,
      );
    }
    tz = zone;
  }
  if (words.length > 4) {
    return fail(`I did not understand \`${words.slice(4).join(' ')}\` after the time zone, e.g. ${EXAMPLE}.`);
  }
  const schedule: DigestSchedule = { days, hour, minute, tz };
  return { ok: true, schedule, cron: cronPattern(schedule) };
}

/** `minute hour * * dow` (dow `*` for every day, 0 for Sunday); the zone goes in BullMQ's separate `tz`. */
export function cronPattern(schedule: DigestSchedule): string {
  const dow = schedule.days === 'day' ? '*' : String(schedule.days % 7);
  return `${schedule.minute} ${schedule.hour} * * ${dow}`;
}

/**
 * The next `n` run times strictly after `from`, in the schedule's zone. Local time is held across daylight-saving
 * changes (09:00 stays 09:00 local, so the UTC offset moves). A time that does not exist on a spring-forward day
 * (e.g. 02:30 in Europe/Berlin on 2026-03-29) runs at the same wall-clock distance after the gap (03:30), as
 * luxon resolves it; a time that happens twice on a fall-back day runs once, at the first.
 */
export function nextRuns(schedule: DigestSchedule, from: DateTime, n: number): DateTime[] {
  const out: DateTime[] = [];
  const local = from.setZone(schedule.tz);
  const firstDay = local.startOf('day');
  for (let i = 0; out.length < n && i < n * 7 + 8; i++) {
    const day = firstDay.plus({ days: i });
    if (schedule.days !== 'day' && day.weekday !== schedule.days) continue;
    const run = day.set({ hour: schedule.hour, minute: schedule.minute, second: 0, millisecond: 0 });
    if (run > from) out.push(run);
  }
  return out;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "every Monday at 09:00 (Europe/Berlin)", "every day at 18:30 (UTC)". */
export function describeSchedule(schedule: DigestSchedule): string {
  const day = schedule.days === 'day' ? 'day' : DAY_NAMES[schedule.days];
  return `every ${day} at ${pad(schedule.hour)}:${pad(schedule.minute)} (${schedule.tz})`;
}
