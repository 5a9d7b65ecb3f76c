import { createServer, type Socket } from 'node:net';
import Redis from 'ioredis';
import pino from 'pino';
import { boundedQueue } from '../../src/jobs/bounded-queue';
import { STORE_REDIS_OPTIONS } from '../../src/store/redis-connection';
import { intake, NotQueuedError } from '../../src/tiers/intake';
import { createRequestQueue, requestJobId } from '../../src/tiers/requests';

const log = pino({ level: 'silent' });
const NOT_TAKEN = { response_type: 'ephemeral', text: 'nothing was saved' };

/** Runs the web tier's intake on one request; records the order of the queue's add and the ack. */
async function take(
  queue: Parameters<typeof intake>[0]['queue'],
  body: Record<string, unknown>,
  withAck = true,
) {
  const order: string[] = [];
  const acks: unknown[] = [];
  const ack = async (response?: unknown) => {
    order.push('ack');
    acks.push(response);
  };
  const realAdd = queue.add.bind(queue);
  const spied = new Proxy(queue, {
    get: (t, p, r) =>
      p === 'add'
        ? async (...args: Parameters<typeof realAdd>) => {
            const job = await realAdd(...args);
            order.push('queued');
            return job;
          }
        : Reflect.get(t, p, r),
  });
  const run = intake({ queue: spied, log, deciders: {}, notTaken: NOT_TAKEN });
  await run({ body, context: {}, next: async () => undefined, ...(withAck ? { ack } : {}) } as never);
  return { order, acks };
}

describe("the web tier's intake", () => {
  it('queues a request before it acknowledges it: what Slack was told was taken is in Redis', async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const queue = createRequestQueue(redis, `test:intake:${Date.now()}:bull`);
    const body = { command: '/donedone', text: 'list', team_id: 'T1', trigger_id: `tr-${Date.now()}` };
    const { order, acks } = await take(queue, body);
    expect(order).toEqual(['queued', 'ack']);
    expect(acks).toEqual([undefined]);
    expect(await queue.getJob(requestJobId(body))).toBeTruthy();
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  it('on a frozen Redis, a command is acknowledged within the bound with "nothing was saved"; an event fails so Slack resends it', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const redis = new Redis(`redis://127.0.0.1:${port}`, STORE_REDIS_OPTIONS);
    redis.on('error', () => undefined);
    const queue = boundedQueue(createRequestQueue(redis, 'test:intake:frozen:bull'), 500);
    queue.on('error', () => undefined);

    const command = await take(queue, { command: '/donedone', text: 'list', team_id: 'T1' });
    expect(command.order).toEqual(['ack']);
    expect(command.acks).toEqual([NOT_TAKEN]);

    const event = take(queue, { type: 'event_callback', event_id: 'Ev1', event: { type: 'message' } }, false);
    await expect(event).rejects.toBeInstanceOf(NotQueuedError);

    await queue.close().catch(() => undefined);
    redis.disconnect();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
