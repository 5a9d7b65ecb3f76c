import { randomUUID } from 'node:crypto';
import { auditEntries } from '../../src/domain/audit';
import type { Feature } from '../../src/domain/model';
import { AUDIT_ENTRIES_KEPT, AuditStore, auditKey } from '../../src/store/audit-store';
import { FeatureStore } from '../../src/store/feature-store';
import { teamKey } from '../../src/store/keys';
import { deleteKeysUnder } from '../support/redis-cluster';
import { targetRedis } from '../support/target-redis';

describe('FeatureStore lists', () => {
  const redis = targetRedis();
  const prefix = `test:features:${randomUUID()}:`;
  const store = new FeatureStore(redis, prefix);

  afterAll(async () => {
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  });

  it('reads every feature of a long list in id order, by owner too, and skips one that is gone', async () => {
    // More features than one read of the store takes at a time (500), owners alternating.
    const count = 1_203;
    for (let n = 1; n <= count; n++) {
      await store.create('T1', () => ({
        title: `Feature ${n}`,
        ownerId: n % 2 === 0 ? 'U2' : 'U1',
        proposedBy: 'U1',
        status: 'proposed',
        createdAt: '2026-12-01T00:00:00.000Z',
        channel: 'C1',
      }));
    }
    await redis.unlink(teamKey(prefix, 'T1', 'f', 'F-700'));

    const all = await store.list('T1');
    const expected = Array.from({ length: count }, (_, i) => `F-${i + 1}`).filter((id) => id !== 'F-700');
    expect(all.map((f) => f.id)).toEqual(expected);
    expect(all[0]!.title).toBe('Feature 1');
    expect(all.at(-1)!.title).toBe(`Feature ${count}`);

    const mine = await store.listByOwner('T1', 'U2');
    expect(mine.map((f) => f.id)).toEqual(expected.filter((id) => Number(id.slice(2)) % 2 === 0));
    expect(mine.every((f) => f.ownerId === 'U2')).toBe(true);
    expect(await store.listByOwner('T1', 'U3')).toEqual([]);
  });
});

describe('FeatureStore writes with their audit trail', () => {
  const redis = targetRedis();
  const prefix = `test:features-audit:${randomUUID()}:`;
  const entries = (before: Feature | null, after: Feature) =>
    auditEntries(before, after, 'U1', '2026-12-03T12:00:00.000Z');
  const store = new FeatureStore(redis, prefix, entries);
  const audit = new AuditStore(redis, prefix);
  const proposal = {
    title: 'Bulk export',
    ownerId: 'U1',
    proposedBy: 'U1',
    status: 'proposed' as const,
    createdAt: '2026-12-01T00:00:00.000Z',
    channel: 'C1',
  };

  afterAll(async () => {
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  });

  it('stores each change with its entries and moves the owner index in the same write', async () => {
    const f = await store.create('T1', () => proposal);
    const moved = await store.update('T1', f.id, (x) => ({ ...x, ownerId: 'U2', status: 'measurable' }));
    expect(moved?.ownerId).toBe('U2');

    expect((await audit.list('T1', f.id)).map((e) => [e.what, e.before, e.after])).toEqual([
      ['proposed', null, 'Bulk export'],
      ['owner', 'U1', 'U2'],
      ['status', 'proposed', 'measurable'],
    ]);
    expect((await store.listByOwner('T1', 'U1')).map((x) => x.id)).toEqual([]);
    expect((await store.listByOwner('T1', 'U2')).map((x) => x.id)).toEqual([f.id]);
    // A write that changes nothing traced adds no entry.
    await store.update('T1', f.id, (x) => ({ ...x, channel: 'C2' }));
    expect(await audit.list('T1', f.id)).toHaveLength(3);
  });

  it('keeps the feature as it was when its audit entries cannot be written, and says the write failed', async () => {
    const f = await store.create('T1', () => proposal);
    // The audit list's key holds a string: the entries' push fails inside the write's script.
    await redis.set(auditKey(prefix, 'T1', f.id), 'not a list');

    await expect(
      store.update('T1', f.id, (x) => ({ ...x, ownerId: 'U3', status: 'measurable' })),
    ).rejects.toThrow(/WRONGTYPE/);
    const kept = await store.get('T1', f.id);
    expect(kept?.status).toBe('proposed');
    expect(kept?.ownerId).toBe('U1');
    expect(await redis.hget(teamKey(prefix, 'T1', 'f', f.id), 'v')).toBe('1');
    expect((await store.listByOwner('T1', 'U3')).map((x) => x.id)).toEqual([]);
    expect((await store.listByOwner('T1', 'U1')).map((x) => x.id)).toContain(f.id);
  });

  it('keeps the newest 500 entries of a feature', async () => {
    const f = await store.create('T1', () => proposal);
    for (let i = 1; i <= AUDIT_ENTRIES_KEPT; i++)
      await store.update('T1', f.id, (x) => ({ ...x, title: `Bulk export ${i}` }));
    const list = await audit.list('T1', f.id);
    // 1 proposal + 500 retitles, the oldest (the proposal) trimmed.
    expect(list).toHaveLength(AUDIT_ENTRIES_KEPT);
    expect(list[0]).toMatchObject({ what: 'title', before: 'Bulk export', after: 'Bulk export 1' });
    expect(list.at(-1)).toMatchObject({ what: 'title', after: `Bulk export ${AUDIT_ENTRIES_KEPT}` });
  });
});
