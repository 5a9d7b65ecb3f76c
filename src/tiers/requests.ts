import { createHash } from 'node:crypto';
import type { App } from '@slack/bolt';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { asJobError } from '../slack/slack-failure';
import type { RedisClient } from '../store/redis-connection';

/** The queue of Slack requests acknowledged by a web process, for a worker to run. */
export const REQUESTS_QUEUE = 'donedone-requests';

/** One acknowledged Slack request: its parsed body (no verification token) and when it came. */
export interface RequestJob {
  body: Record<string, unknown>;
  receivedAt: number;
}

/** What a worker's Bolt app finds in `context` for a request it runs from the queue. */
export interface QueuedContext {
  queued: true;
  receivedAt: number;
  /** The last try: listeners tell the person now, as no retry will. */
  lastAttempt: boolean;
}

export function isQueued(
  context: Record<string, unknown>,
): context is Record<string, unknown> & QueuedContext {
  return context.queued === true;
}

/** The request without Slack's legacy verification token: job data holds no secrets. */
export function withoutToken(body: Record<string, unknown>): Record<string, unknown> {
  const { token: _token, ...rest } = body;
  return rest;
}

/**
 * The job id of a request: a digest of its body, so Slack's retries of an event and a replayed
 * request (the same signed body again) are the same job, queued once.
 */
export function requestJobId(body: Record<string, unknown>): string {
  return `req-${createHash('sha256')
    .update(JSON.stringify(withoutToken(body)))
    .digest('hex')
    .slice(0, 40)}`;
}

/** Queues one Slack request for a worker, under its job id (a replay is the same job, queued once). */
export function enqueueRequest(
  queue: Queue<RequestJob>,
  body: Record<string, unknown>,
  receivedAt = Date.now(),
): Promise<unknown> {
  return queue.add('request', { body: withoutToken(body), receivedAt }, { jobId: requestJobId(body) });
}

export function createRequestQueue(connection: RedisClient, prefix: string): Queue<RequestJob> {
  return new Queue<RequestJob>(REQUESTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 1_000 },
      // The id is what makes a replay a no-op: keep it for a day (Slack's signature window is
      // five minutes; the replay guard remembers ten).
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

/**
 * Runs queued requests through the same Bolt app that registered the listeners (its receiver
 * unused): `processEvent` with an acknowledgement that was already sent by the web process.
 * A listener that throws fails the job, which BullMQ retries with back-off.
 */
export function createRequestWorker(opts: {
  connection: RedisClient;
  prefix: string;
  bolt: App;
  log: Logger;
  concurrency?: number;
}): Worker<RequestJob> {
  const worker = new Worker<RequestJob>(
    REQUESTS_QUEUE,
    async (job) => {
      const attempts = job.opts.attempts ?? 1;
      const context: QueuedContext = {
        queued: true,
        receivedAt: job.data.receivedAt,
        lastAttempt: job.attemptsMade + 1 >= attempts,
      };
      if (!job.data.body || typeof job.data.body !== 'object')
        throw new UnrecoverableError('a request job without a body');
      try {
        await opts.bolt.processEvent({
          body: job.data.body,
          ack: async () => undefined,
          customProperties: context as unknown as Record<string, unknown>,
        });
      } catch (err) {
        throw asJobError(err);
      }
      return 'done';
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency ?? 20 },
  );
  worker.on('failed', (job, err) => {
    opts.log.warn({ job: job?.id, attempts: job?.attemptsMade, err }, 'request failed');
  });
  worker.on('error', (err) => opts.log.error({ err }, 'request worker error'));
  return worker;
}
