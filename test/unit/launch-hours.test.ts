import { DateTime } from 'luxon';
import { hourFrom, hourHolding, launchHours, nothingJudged } from '../../src/telemetry/launch-hours';

const LAUNCH = DateTime.fromISO('2026-03-02T10:30:17Z', { zone: 'utc' });
const t = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });

describe('launch-anchored hours', () => {
  it('spans the whole hours from the first starting at or after `from` to the last ending by `to`', () => {
    const span = launchHours({ launch: LAUNCH, from: LAUNCH, to: t('2026-03-02T13:45:00Z') });
    expect(span.start.toISO()).toBe('2026-03-02T10:30:17.000Z');
    // 12:30:17–13:30:17 is the last hour over by 13:45.
    expect(span.end.toISO()).toBe('2026-03-02T13:30:17.000Z');
    expect(span.hours).toBe(3);
  });

  it('starts a `from` inside an hour at the next hour, and keeps the cursor when no hour fits', () => {
    const range = { launch: LAUNCH, from: t('2026-03-02T11:00:00Z'), to: t('2026-03-02T12:00:00Z') };
    const span = launchHours(range);
    expect(span.hours).toBe(0);
    expect(span.start.toISO()).toBe('2026-03-02T11:30:17.000Z');
    expect(nothingJudged(range).scannedTo.toISO()).toBe('2026-03-02T11:00:00.000Z');
  });

  it('counts hours before launch the same way', () => {
    const span = launchHours({ launch: LAUNCH, from: LAUNCH.minus({ hours: 2 }), to: LAUNCH });
    expect(span.start.toISO()).toBe('2026-03-02T08:30:17.000Z');
    expect(span.hours).toBe(2);
  });

  it('floors and ceils instants to launch hours, whatever the zone given', () => {
    const berlin = t('2026-03-02T12:00:00Z').setZone('Europe/Berlin');
    expect(hourHolding(LAUNCH, berlin).toISO()).toBe('2026-03-02T11:30:17.000Z');
    expect(hourFrom(LAUNCH, berlin).toISO()).toBe('2026-03-02T12:30:17.000Z');
    expect(hourFrom(LAUNCH, t('2026-03-02T12:30:17Z')).toISO()).toBe('2026-03-02T12:30:17.000Z');
    expect(hourHolding(LAUNCH, t('2026-03-02T09:00:00Z')).toISO()).toBe('2026-03-02T08:30:17.000Z');
  });
});
