import { DelayedError, type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { asJobError, retryAfterMs } from '../slack/slack-failure';
import type { RedisClient } from '../store/redis-connection';
import type { WatchService } from '../usecases/watch-service';
import { RetryLater } from './effects';
import { type CheckJob, type FeatureJob, type JobData, QUEUE_NAME, type QueueSettings } from './queue';

/**
 * One worker for donedone's queue; several bot processes can run one each and share the work.
 * Each job name has its processor; `RetryLater` moves the job to the delayed set (Slack's
 * Retry-After, a channel's posting slot) rather than sleeping in the worker.
 */
/** A processor for one job name, added by a capability (digests, retros…). */
export type JobProcessor = (job: Job<JobData>, info: { lastAttempt: boolean }) => Promise<string>;

export function createWorker(opts: {
  connection: RedisClient;
  settings: QueueSettings;
  watch: WatchService;
  log: Logger;
  concurrency?: number;
  processors?: Map<string, JobProcessor>;
}): Worker<JobData> {
  const { watch, log } = opts;
  const worker = new Worker<JobData>(
    QUEUE_NAME,
    async (job: Job<JobData>, token?: string) => {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        switch (job.name) {
          case 'catch-up':
            return await watch.catchUp(job.data as FeatureJob, lastAttempt);
          case 'first-use':
            return await watch.firstUseJob(job.data as FeatureJob);
          case 'check': {
            const check = await watch.checkpoint(job.data as CheckJob, { post: true, lastAttempt });
            return check ? check.verdict : 'skipped';
          }
          default: {
            const processor = opts.processors?.get(job.name);
            if (processor) return await processor(job, { lastAttempt });
            log.warn({ job: job.name }, 'unknown job name');
            return 'unknown job';
          }
        }
      } catch (err) {
        // Waiting (a channel's slot, Slack's Retry-After of a call made outside `Effects`) moves the
        // job to the delayed set for exactly that long; it is no failed attempt.
        const waitMs = err instanceof RetryLater ? err.delayMs : retryAfterMs(err);
        if (waitMs !== null && token) {
          await job.moveToDelayed(Date.now() + waitMs, token);
          throw new DelayedError(err instanceof Error ? err.message : `retry in ${waitMs} ms`);
        }
        throw asJobError(err);
      }
    },
    {
      connection: opts.connection,
      prefix: opts.settings.prefix,
      concurrency: opts.concurrency ?? 20,
    },
  );
  worker.on('failed', (job, err) => {
    log.warn({ job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err }, 'job failed');
  });
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  return worker;
}
