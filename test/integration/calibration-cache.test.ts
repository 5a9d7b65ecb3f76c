import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import pino from 'pino';
import type { Check, Feature } from '../../src/domain/model';
import { CheckStore } from '../../src/store/check-store';
import { FeatureStore } from '../../src/store/feature-store';
import type { RedisClient } from '../../src/store/redis-connection';
import type { Telemetry } from '../../src/telemetry/telemetry';
import { LearningService } from '../../src/usecases/learning-service';
import { EXPECTATION } from '../fixtures/board';
import { deleteKeysUnder } from '../support/redis-cluster';
import { targetRedis } from '../support/target-redis';

/**
 * An owner's calibration is kept per process (every card of a waiting feature shows it), checked
 * against a version in Redis that any process renews when it writes a judged cycle. Two
 * "processes" here: two connections, each with its own stores and learning service, wired as
 * app.ts wires them (the learning service listens to its feature store's writes).
 */

const prefix = `test:calibration:${randomUUID()}:`;
const LAUNCHED = '2026-10-01T09:00:00.000Z';
const DEADLINE = DateTime.fromISO(LAUNCHED, { zone: 'utc' })
  .plus({ days: EXPECTATION.deadlineDays })
  .toISO()!;

function processOn(redis: RedisClient) {
  const store = new FeatureStore(redis, prefix);
  const checks = new CheckStore(redis, prefix);
  const learning = new LearningService({
    store,
    checks,
    // Calibration reads no telemetry (only suggestions do).
    telemetry: {} as Telemetry,
    redis,
    prefix,
    now: () => DateTime.fromISO('2026-12-01T09:00:00Z', { zone: 'utc' }),
    log: pino({ level: 'silent' }),
    zone: 'UTC',
  });
  store.onWrite((before, after) => learning.featureWritten(before, after));
  const listByOwner = jest.spyOn(store, 'listByOwner');
  return { store, checks, learning, listByOwner };
}

const redisA = targetRedis();
const redisB = targetRedis();
const a = processOn(redisA);
const b = processOn(redisB);

afterAll(async () => {
  await deleteKeysUnder(redisA, prefix);
  redisA.disconnect();
  redisB.disconnect();
});

/** A feature of U1's launched on LAUNCHED with the fixture's expectation (>= 200 a week). */
async function launched(title: string): Promise<Feature> {
  return a.store.create('T1', () => ({
    title,
    ownerId: 'U1',
    proposedBy: 'U1',
    status: 'launched',
    createdAt: '2026-09-01T10:00:00Z',
    channel: 'C1',
    expectation: EXPECTATION,
    launchedAt: LAUNCHED,
  }));
}

/** What the watch does at the deadline, in process B: the final check stored, then the status it moves. */
async function judgeAtDeadline(id: string, value: number): Promise<void> {
  const verdict = value >= EXPECTATION.target ? 'met' : 'missed';
  const check: Check = {
    at: DEADLINE,
    kind: 'final',
    value,
    verdict,
    query: 'q',
    expectation: EXPECTATION.text,
  };
  await b.checks.add('T1', id, check);
  await b.store.update('T1', id, (f) => ({ ...f, status: verdict, lastVerdict: verdict }));
}

it('is read once while nothing judged changes, and anew after another process judges, reassigns or loses a feature', async () => {
  const [f1, f2, f3] = [
    await launched('Bulk export'),
    await launched('Dark mode'),
    await launched('Checkout'),
  ];
  expect(await a.learning.ownerCalibration('T1', 'U1')).toMatchObject({ judged: 0, met: 0 });
  expect(await a.learning.ownerCalibration('T1', 'U1')).toMatchObject({ judged: 0 });
  expect(a.listByOwner).toHaveBeenCalledTimes(1);

  // Weekly checks' verdicts (what a sweep writes to every feature) change no one's calibration.
  await b.store.update('T1', f1!.id, (f) => ({ ...f, lastVerdict: 'on track' }));
  await b.store.update('T1', f2!.id, (f) => ({ ...f, lastVerdict: 'at risk' }));
  expect(await a.learning.ownerCalibration('T1', 'U1')).toMatchObject({ judged: 0 });
  expect(a.listByOwner).toHaveBeenCalledTimes(1);

  // Process B judges all three at their deadline: 300 (met, 150%), 100 (missed, 50%), 220 (met, 110%).
  const values = [300, 100, 220];
  for (const [i, f] of [f1!, f2!, f3!].entries()) await judgeAtDeadline(f.id, values[i]!);
  const shares = values.map((v) => v / EXPECTATION.target).sort((x, y) => x - y);
  const met = values.filter((v) => v >= EXPECTATION.target).length;
  const expected = { judged: 3, met, median: shares[1], min: shares[0], max: shares[2] };
  expect(await a.learning.ownerCalibration('T1', 'U1')).toEqual(expected);
  expect(await a.learning.ownerCalibration('T1', 'U1')).toEqual(expected);
  expect(a.listByOwner).toHaveBeenCalledTimes(2);

  // Process B gives the missed one to U2: U1 keeps the two met, U2 has the missed one.
  await b.store.update('T1', f2!.id, (f) => ({ ...f, ownerId: 'U2' }));
  expect(await a.learning.ownerCalibration('T1', 'U1')).toMatchObject({ judged: 2, met: 2 });
  expect(await a.learning.ownerCalibration('T1', 'U2')).toMatchObject({ judged: 1, met: 0 });

  // A write whose renewal is lost (made here by a store nobody listens to: Redis failing just after the
  // write): F-3 relaunched, so U1 has one judged cycle left. The kept calibration is read again once
  // it is ten minutes old, whatever its version says.
  await new FeatureStore(redisB, prefix).update('T1', f3!.id, (f) => ({
    ...f,
    status: 'launched',
    launchedAt: '2026-11-20T09:00:00.000Z',
  }));
  expect(await a.learning.ownerCalibration('T1', 'U1')).toMatchObject({ judged: 2, met: 2 });
  const later = Date.now() + 10 * 60_000 + 1;
  const clock = jest.spyOn(Date, 'now').mockReturnValue(later);
  try {
    expect(await a.learning.ownerCalibration('T1', 'U1')).toMatchObject({ judged: 1, met: 1 });
  } finally {
    clock.mockRestore();
  }

  // The store is reset (a Redis restarted without persistence): nothing kept is shown again.
  await deleteKeysUnder(redisA, prefix);
  expect(await a.learning.ownerCalibration('T1', 'U1')).toMatchObject({ judged: 0, met: 0 });
  expect(await a.learning.ownerCalibration('T1', 'U2')).toMatchObject({ judged: 0, met: 0 });
});

it('a renewal that fails leaves the write stored and its writer told it succeeded', async () => {
  const f = await launched('Renewal lost');
  const warn = jest.fn();
  const redis = targetRedis();
  const store = new FeatureStore(redis, prefix);
  const learning = new LearningService({
    store,
    checks: new CheckStore(redis, prefix),
    telemetry: {} as Telemetry,
    redis,
    prefix,
    now: () => DateTime.fromISO('2026-12-01T09:00:00Z', { zone: 'utc' }),
    log: { warn } as unknown as pino.Logger,
    zone: 'UTC',
  });
  store.onWrite((before, after) => learning.featureWritten(before, after));
  // Redis refuses the version's SET (the only SET of this write: the feature goes in by script).
  const set = jest.spyOn(redis, 'set').mockRejectedValueOnce(new Error('READONLY'));
  try {
    const written = await store.update('T1', f.id, (x) => ({ ...x, status: 'missed' }));
    expect(written?.status).toBe('missed');
    expect((await a.store.get('T1', f.id))?.status).toBe('missed');
    expect(set).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
  } finally {
    set.mockRestore();
    redis.disconnect();
  }
});
