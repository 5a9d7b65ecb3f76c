import { randomUUID } from 'node:crypto';
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
