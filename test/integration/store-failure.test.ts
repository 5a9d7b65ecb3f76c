import { createServer, type Server, type Socket } from 'node:net';
import Redis from 'ioredis';
import { boundedQueue } from '../../src/jobs/bounded-queue';
import { createQueue, DEFAULT_QUEUE_SETTINGS } from '../../src/jobs/queue';
import { friendlyError } from '../../src/slack/listeners/commands/donedone-command';
import { FeatureStore } from '../../src/store/feature-store';
import { STORE_REDIS_OPTIONS } from '../../src/store/redis-connection';

/** A "Redis" that accepts connections and never answers: what a frozen (SIGSTOPped, swapping) server looks like. */
async function frozenRedis(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port where nothing listens: a Redis that is down. */
async function downRedis(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return `redis://127.0.0.1:${port}`;
}

async function timed<T>(work: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work;
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

describe('when the store fails, nobody waits for ever and nobody is told a lie', () => {
  // commandTimeout (5 s) plus one reconnection: well under Slack users' patience and a job's lock.
  const BOUND_MS = 12_000;

  it.each([
    ['frozen', frozenRedis],
    ['down', async () => ({ url: await downRedis(), close: async () => undefined })],
  ])(
    'a %s Redis: a proposal fails within the bound and the answer says nothing was saved',
    async (_name, make) => {
      const redisServer = await make();
      const redis = new Redis(redisServer.url, STORE_REDIS_OPTIONS);
      redis.on('error', () => undefined);
      const store = new FeatureStore(redis, 'test:failure:');
      const { error, ms } = await timed(
        store.create('T1', () => ({
          title: 'Bulk export',
          ownerId: 'U1',
          proposedBy: 'U1',
          status: 'proposed',
          createdAt: '2026-11-01T00:00:00.000Z',
        })),
      );
      redis.disconnect();
      await redisServer.close();
      expect(error).toBeInstanceOf(Error);
      expect(ms).toBeLessThan(BOUND_MS);
      const answer = friendlyError(error);
      expect(answer).toContain('nothing was saved');
      expect(answer).toContain('Try again');
      expect(answer).not.toContain('lost');
    },
  );

  it('a producer (the job queue) on a frozen Redis gives up within the bound', async () => {
    const frozen = await frozenRedis();
    const connection = new Redis(frozen.url, STORE_REDIS_OPTIONS);
    connection.on('error', () => undefined);
    const queue = boundedQueue(
      createQueue(connection, { ...DEFAULT_QUEUE_SETTINGS, prefix: 'test:failure:bull' }),
    );
    queue.on('error', () => undefined);
    const { error, ms } = await timed(queue.add('check', { team: 'T1', id: 'F-1' } as never));
    await queue.close().catch(() => undefined);
    connection.disconnect();
    await frozen.close();
    expect(error).toBeInstanceOf(Error);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(friendlyError(error)).toContain('nothing was saved');
  });
});
