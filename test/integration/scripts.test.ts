import { randomUUID } from 'node:crypto';
import { dataNodes } from '../../src/store/redis-connection';
import { runScript, script } from '../../src/store/scripts';
import { deleteKeysUnder } from '../support/redis-cluster';
import { targetRedis } from '../support/target-redis';

describe('runScript', () => {
  const redis = targetRedis();
  const prefix = `test:scripts:${randomUUID()}:`;
  const add = script("return redis.call('INCRBY', KEYS[1], ARGV[1])");

  afterAll(async () => {
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  });

  it('runs a script by its SHA1, and loads it again when the server forgot it (NOSCRIPT)', async () => {
    const key = `${prefix}n`;
    expect(await runScript(redis, add, [key], [2])).toBe(2);
    // A restarted Redis, or one that flushed its scripts: the script is sent as text once more.
    for (const node of await dataNodes(redis)) await node.script('FLUSH');
    expect(await runScript(redis, add, [key], [3])).toBe(5);
    const known = (
      await Promise.all((await dataNodes(redis)).map((n) => n.script('EXISTS', add.sha)))
    ).flat();
    expect(known).toContain(1);
    expect(await runScript(redis, add, [key], [1])).toBe(6);
  });

  it('passes the script’s own errors through', async () => {
    const broken = script("return redis.call('INCRBY', KEYS[1], 'not a number')");
    await expect(runScript(redis, broken, [`${prefix}m`], [])).rejects.toThrow(/not an integer/);
  });
});
