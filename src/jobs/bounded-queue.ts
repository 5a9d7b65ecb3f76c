import type { Queue } from 'bullmq';

/** What a producer asks of the queue; each call gives up after the bound instead of waiting for Redis for ever. */
const BOUNDED = new Set<PropertyKey>([
  'add',
  'addBulk',
  'upsertJobScheduler',
  'removeJobScheduler',
  'remove',
  'getJob',
  'getJobCounts',
  'getJobSchedulers',
]);

export class QueueTimeoutError extends Error {
  constructor(method: string, ms: number) {
    super(`the job queue did not answer ${method} within ${ms / 1000} s: Redis is down or frozen`);
    this.name = 'QueueTimeoutError';
  }
}

/**
 * The queue as producers see it: BullMQ waits for its connection to be ready before each command, and a
 * Redis that is down or frozen never gets ready, so an `add` would wait for ever. Here each call gives up
 * after `ms` (its job ids are deterministic, so a call that lands late changes nothing twice).
 */
export function boundedQueue<Q extends Queue>(queue: Q, ms = 10_000): Q {
  return new Proxy(queue, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || !BOUNDED.has(prop)) return value;
      return (...args: unknown[]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new QueueTimeoutError(String(prop), ms)), ms);
          timer.unref();
        });
        const work = Promise.resolve(value.apply(target, args));
        work.catch(() => undefined);
        return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
      };
    },
  });
}
