import { Queue } from 'bullmq';
import type { RedisClient } from '../store/redis-connection';

export const QUEUE_NAME = 'donedone';

export interface CheckJob {
  team: string;
  id: string;
  launchedAt: string;
  /** The expectation the job was planned for; a changed expectation supersedes it. */
  expectation: string;
  at: string;
  kind: 'scheduled' | 'final';
  /** A pending verdict's n-th try after the deadline. */
  retry?: number;
}
export interface FeatureJob {
  team: string;
  id: string;
  launchedAt: string;
  expectation: string;
}

/** Job data holds ids and times only: never tokens, keys or message text from users. */
export type JobData = CheckJob | FeatureJob | Record<string, string | number | boolean>;

/** BullMQ ids may not contain `:`; these are deterministic, so the same work is queued once. */
export function jobId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/[^A-Za-z0-9_.-]/g, '_')).join('__');
}

export function checkJobId(job: CheckJob): string {
  return jobId(
    'check',
    job.team,
    job.id,
    Date.parse(job.launchedAt),
    Date.parse(job.at),
    job.kind,
    job.expectation,
  );
}

export function firstUseSchedulerId(team: string, id: string): string {
  return jobId('first-use', team, id);
}

export interface QueueSettings {
  /** BullMQ key prefix (tests give each run its own). */
  prefix: string;
  /** Attempts for a check whose telemetry is unreachable. */
  attempts: number;
  /** First back-off delay; doubles every attempt. */
  backoffMs: number;
  /** How often first use is looked for until found. */
  firstUseEveryMs: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  prefix: 'donedone',
  attempts: 6,
  backoffMs: 60_000,
  firstUseEveryMs: 3_600_000,
};

export function createQueue(connection: RedisClient, settings: QueueSettings): Queue<JobData> {
  return new Queue<JobData>(QUEUE_NAME, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: settings.backoffMs },
      // Completed jobs are kept a while: a removed job frees its id, and the id is what
      // stops a duplicate launch from queueing the same check twice.
      removeOnComplete: { age: 90 * 24 * 3600 },
      removeOnFail: { age: 90 * 24 * 3600 },
    },
  });
}
