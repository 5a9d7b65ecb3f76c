import type { Queue } from 'bullmq';

/** Polls `predicate` until it holds; throws after `timeoutMs`. */
export async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the queue has nothing waiting or active and nothing delayed that is due within
 * `horizonMs` (a post waiting for its channel's slot, a retry): only then can a test say that
 * nothing more will be posted, since a late duplicate would still be in the queue.
 */
export async function drained(queue: Queue, horizonMs = 2_000): Promise<void> {
  await waitFor(async () => {
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
    const delayed = await queue.getDelayed();
    const dueSoon = delayed.filter((j) => j.timestamp + (j.opts.delay ?? 0) < Date.now() + horizonMs);
    const busy = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0);
    return busy === 0 && dueSoon.length === 0;
  });
}

/**
 * A bot's queues drained: Slack requests waiting for a worker, scheduled work, then the posts
 * that work queued for their channels' pacers (a pacer waiting for a slot is active or delayed).
 */
export async function drainedBot(donedone: { queue: Queue; requests: Queue; pacing?: Queue }): Promise<void> {
  await drained(donedone.requests);
  await drained(donedone.queue);
  if (donedone.pacing) await drained(donedone.pacing);
}
