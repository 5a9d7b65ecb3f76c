import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Message } from '../slack/blocks/card-blocks';
import type { SlackPort } from '../slack/port';
import { classifySlackFailure, retryAfterMs } from '../slack/slack-failure';
import type { FeatureStore } from '../store/feature-store';
import { channelPaceKeys } from '../store/keys';
import type { Marks } from '../store/marks';
import type { RedisClient } from '../store/redis-connection';
import { runScript, script } from '../store/scripts';
import { jobId } from './queue';

export const PACING_QUEUE = 'donedone-pacing';

/**
 * A post waiting for its channel's turn, as data (it waits in Redis, not in a closure): in a
 * feature's thread, or a DM. `team` says whose workspace it is for.
 */
export type Delivery =
  | { kind: 'thread'; team: string; id: string; message: Message }
  | { kind: 'dm'; team: string; user: string; message: Message };

/**
 * Posts one queued post; `attempt.retried` when an earlier run may have posted it already. The
 * pacer passes it still on its way (the attempt is recorded in the same round trip as the
 * delivery's first read): a delivery must await it before it posts.
 */
export type Deliver = (
  delivery: Delivery,
  attempt?: { key: string; retried: boolean | Promise<boolean> },
) => Promise<void>;

/** A channel's pacing job: `gen` is the pacer generation it belongs to (see `ChannelPacing`). */
export interface PaceJob {
  channel: string;
  gen: string;
  /** Failed tries of the post at the head of the channel's queue (Slack's 5xx, the network). */
  failures?: number;
}

export interface PacingSettings {
  /** Spacing of posts to one channel (chat.postMessage: one a second per channel). Default 1100. */
  perChannelMs: number;
  /**
   * A wait for the channel's next slot up to this long is waited in the pacing job (a timer: its
   * worker slot is held, no Redis and no CPU meanwhile); longer waits (Slack's Retry-After, slots
   * taken by other posting paths) move the job to the delayed set. 0: always the delayed set.
   * Also how long past its next slot a pacer whose queue ran dry waits for more before it ends.
   * Default 2000.
   */
  holdMs: number;
  /** Pacing jobs one process runs at once: channels posted to at the same time. Default 500. */
  concurrency: number;
  /** Tries of a post Slack fails with a 5xx or the network loses, before it is given up. */
  attempts: number;
  /** First back-off of such a post; doubles every try (at most 6 h). */
  backoffMs: number;
}

export const DEFAULT_PACING: PacingSettings = {
  perChannelMs: 1100,
  holdMs: 2000,
  concurrency: 500,
  attempts: 6,
  backoffMs: 60_000,
};

const SLOT_TTL_MS = 3_600_000;
/** How long a pacer's job this process added is taken to be there without adding it again. */
const ADDED_FOR_MS = 10_000;
const MAX_BACKOFF_MS = 6 * 3600_000;
/** How long to wait when another run holds the head post's claim (it is being posted, or was killed mid-way). */
const BUSY_WAIT_MS = 5_000;

/**
 * Queues one post: nothing if the effect is done already; otherwise the post in the channel's
 * queue (a sorted set by due time, idempotent by effect key) and its payload, and the channel's
 * pacer generation (made if there is none), which the caller makes sure has its job.
 * KEYS: the channel's pacer, queue, payloads (one slot: the channel's). ARGV: member, due, payload, new generation.
 */
const ENQUEUE_SCRIPT = `
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[3])
local gen = redis.call('GET', KEYS[1])
if not gen then
  gen = ARGV[4]
  redis.call('SET', KEYS[1], gen)
end
return gen`;

/**
 * The pacer's next step. A pacer that is no longer the channel's stops. An empty queue ends the
 * pacer (atomically with the enqueue script: a post queued after this makes a new generation),
 * unless its last post was less than the interval and `linger` ago: then it waits for more (a
 * result arriving then could not have gone sooner, and the pacer need not start again for it).
 * Else the head post goes if the channel's slot is free (taking it), or the wait is returned.
 * KEYS: the channel's pacer, queue, payloads, next free slot, last post. ARGV: generation, now, interval, linger.
 */
const NEXT_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local now = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local last = tonumber(redis.call('GET', KEYS[5]) or '0')
local nextFree = tonumber(redis.call('GET', KEYS[4]) or '0')
local at = math.max(last + interval, nextFree)
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if not head then
  local untilMs = last + interval + tonumber(ARGV[4])
  if untilMs > now then
    if at > now then return {'idle', tostring(at - now)} end
    return {'idle', tostring(math.min(untilMs - now, math.floor(interval / 2)))}
  end
  redis.call('DEL', KEYS[1])
  return {'empty'}
end
if at > now then return {'wait', tostring(at - now)} end
redis.call('SET', KEYS[5], now, 'PX', ${SLOT_TTL_MS})
redis.call('SET', KEYS[4], now + interval, 'PX', ${SLOT_TTL_MS})
return {'go', head, redis.call('HGET', KEYS[3], head) or ''}`;

/** Slack said when to come back: no post to this channel before then, by any path. KEYS: next free slot. ARGV: time. */
const HOLD_BACK_SCRIPT = `
local resume = tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') < resume then
  redis.call('SET', KEYS[1], resume, 'PX', math.max(${SLOT_TTL_MS}, resume - tonumber(ARGV[2])))
end
return 1`;

/**
 * A post done with (posted, or given up): out of the channel's queue and payloads; when posted, its
 * time is the channel's last post. One script, not a MULTI of three (five commands for the client).
 * KEYS: the channel's queue, payloads, last post. ARGV: member, posted at ('' when not posted).
 */
const FINISH_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('SET', KEYS[3], ARGV[2], 'PX', ${SLOT_TTL_MS}) end
return 1`;

const ENQUEUE = script(ENQUEUE_SCRIPT);
const FINISH = script(FINISH_SCRIPT);
const NEXT = script(NEXT_SCRIPT);

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Posts paced per channel without waking every waiting job. A result ready to post is added to
 * its channel's queue in Redis (a sorted set by due time, idempotent by effect key) and the job
 * that produced it is done. One pacing job per channel posts the head, waits for the channel's
 * next slot (a short wait in the job, a long one in BullMQ's delayed set) and ends when the
 * queue is empty; so a channel with 100 results waiting costs 100 posts, not 100 jobs woken
 * every second. Exactly once: each post is claimed by its effect key (`Marks.claim`), as
 * `Effects.once` does, across retries, restarts (kill -9 included) and processes.
 *
 * Pacers come in generations: the enqueue script makes one when the channel has none, and the
 * pacer deletes it when it finds the queue empty, atomically, so every queued post has a live
 * generation whose job (id `pace__<channel>__<gen>`, added by every enqueuer: a lost add is
 * repaired by the next one, or by the producing job's retry) will post it. A job of a past
 * generation finds it is no longer the channel's and ends.
 */
export class ChannelPacing {
  readonly settings: PacingSettings;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly deps: {
      redis: RedisClient;
      prefix: string;
      marks: Marks;
      queue: Queue<PaceJob>;
      log: Logger;
      settings?: Partial<PacingSettings>;
      sleep?: (ms: number) => Promise<void>;
    },
  ) {
    this.settings = { ...DEFAULT_PACING, ...deps.settings };
    this.sleep = deps.sleep ?? realSleep;
  }

  private keys(channel: string) {
    const k = channelPaceKeys(this.deps.prefix, channel);
    return { pacer: k.pacer, outbox: k.outbox, payloads: k.payloads, slot: k.nextFree, last: k.last };
  }

  /** The channel's queue key, for other posting paths that must let it go first (`Effects.once`). */
  outboxKey(channel: string): string {
    return this.keys(channel).outbox;
  }

  /**
   * Queues a post to `channel`, due at `dueMs` (posts leave a channel in order of their due
   * times): once per `key`, whoever asks again. Resolves when it is queued and its channel's
   * pacer has its job; `already` when it was posted before.
   */
  async post(key: string, channel: string, dueMs: number, delivery: Delivery): Promise<'queued' | 'already'> {
    // Done already: nothing to queue. (Done between here and the script: its pacer finds the claim done.)
    if (await this.deps.marks.isDone(key)) return 'already';
    const k = this.keys(channel);
    const gen = (await runScript(
      this.deps.redis,
      ENQUEUE,
      [k.pacer, k.outbox, k.payloads],
      [
        key,
        dueMs,
        JSON.stringify(delivery),
        `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
      ],
    )) as string | null;
    if (!gen) return 'already';
    // A pacer this process gave its job moments ago has it still (a pacer that found its queue empty
    // ended its generation, so a new post makes a new one): not added again for the next posts of a
    // sweep. After ADDED_FOR_MS the add is repeated, which repairs a pacer whose job was lost.
    const added = `${channel}\n${gen}`;
    const now = Date.now();
    if ((this.added.get(added) ?? 0) > now) return 'queued';
    await this.deps.queue.add('pace', { channel, gen }, { jobId: jobId('pace', channel, gen) });
    if (this.added.size >= 10_000) {
      for (const [k, until] of this.added) if (until <= now) this.added.delete(k);
      if (this.added.size >= 10_000) this.added.clear();
    }
    this.added.set(added, now + ADDED_FOR_MS);
    return 'queued';
  }

  /** Pacer generations this process added a job for, until when that add is trusted. */
  private readonly added = new Map<string, number>();

  /** Posts waiting in `channel`'s queue (tests, benches, metrics). */
  async waiting(channel: string): Promise<number> {
    return this.deps.redis.zcard(this.keys(channel).outbox);
  }

  /**
   * The pacing job's work: posts the channel's queue in order, one a slot, until it is empty.
   * `closing`: the worker is stopping, so a wait goes to the delayed set (another process, or
   * this one restarted, carries on) rather than holding the shutdown.
   */
  async run(
    job: Job<PaceJob>,
    token: string | undefined,
    deliver: Deliver,
    closing: () => boolean,
  ): Promise<string> {
    const { channel, gen } = job.data;
    const k = this.keys(channel);
    const { perChannelMs, holdMs } = this.settings;
    let posted = 0;
    const later = async (ms: number, why: string): Promise<never> => {
      if (!token) throw new Error(`pacing ${channel}: ${why}, and the job has no lock token to wait with`);
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError(`${why}: ${posted} posted, the next in ${ms} ms`);
    };
    for (;;) {
      const now = Date.now();
      const step = (await runScript(
        this.deps.redis,
        NEXT,
        [k.pacer, k.outbox, k.payloads, k.slot, k.last],
        [gen, now, perChannelMs, holdMs],
      )) as string[];
      const [what, a, b] = step;
      if (what === 'stale') return `a newer pacer has ${channel}: ${posted} posted`;
      if (what === 'empty') return `${channel} drained: ${posted} posted`;
      if (what === 'wait' || what === 'idle') {
        const ms = Number(a);
        if (ms <= holdMs && !closing()) {
          await this.sleep(ms);
          continue;
        }
        await later(
          ms,
          what === 'wait' ? `channel ${channel} waits for its slot` : `channel ${channel} waits for more`,
        );
      }
      const key = a!;
      const claim = await this.deps.marks.claim(key);
      if (claim === 'done') {
        await this.finish(channel, key);
        continue;
      }
      if (claim === 'busy') await later(BUSY_WAIT_MS, `post ${key} is held by another run`);
      let delivery: Delivery;
      try {
        delivery = JSON.parse(b ?? '') as Delivery;
      } catch {
        this.deps.log.error({ channel, key }, 'a queued post without a readable payload was dropped');
        await this.deps.marks.unclaim(key);
        await this.finish(channel, key);
        continue;
      }
      try {
        // A post attempted before (its run died between Slack's answer and `done`) is looked for first.
        const retried = this.deps.marks.attempt(key);
        retried.catch(() => undefined); // awaited by `deliver`, which fails with it
        await deliver(delivery, { key, retried });
      } catch (err) {
        await this.deps.marks.unclaim(key);
        const waitMs = retryAfterMs(err);
        if (waitMs !== null) {
          // Every posting path to this channel keeps back until then, not only this pacer.
          await this.deps.redis.eval(HOLD_BACK_SCRIPT, 1, k.slot, Date.now() + waitMs, Date.now());
          await later(waitMs, `Slack rate limit (Retry-After ${waitMs} ms) on ${channel}`);
        }
        const failures = (job.data.failures ?? 0) + 1;
        if (classifySlackFailure(err) === 'permanent' || failures >= this.settings.attempts) {
          this.deps.log.error(
            { channel, key, err, failures },
            'a queued post was given up: Slack refused it for good, or failed it every try',
          );
          await this.finish(channel, key);
          if (job.data.failures) await job.updateData({ channel, gen });
          continue;
        }
        this.deps.log.warn({ channel, key, err, failures }, 'a queued post failed; it is tried again');
        await job.updateData({ channel, gen, failures });
        await later(
          Math.min(this.settings.backoffMs * 2 ** (failures - 1), MAX_BACKOFF_MS),
          `post ${key} failed (${failures} of ${this.settings.attempts})`,
        );
      }
      // The interval runs from when Slack answered, not from when the slot was taken: a post held up
      // on its way (a busy event loop, a slow connection) never lands less than the interval after the last.
      // Both in one round trip: the claim's `done` is what makes the post once; `finish` only tidies.
      const postedAt = Date.now();
      await Promise.all([this.deps.marks.done(key), this.finish(channel, key, postedAt)]);
      if (job.data.failures) await job.updateData({ channel, gen });
      posted++;
      // The channel's next slot is an interval from now at the soonest: waited here, rather than
      // asked for (one script a post fewer). The next step still checks the slot, which another
      // posting path may have taken meanwhile.
      const rest = perChannelMs - (Date.now() - postedAt);
      if (rest > 0 && rest <= holdMs && !closing()) await this.sleep(rest);
    }
  }

  /** The post is done with (posted, or given up): out of the queue; `postedAt`, when it was posted. */
  private async finish(channel: string, key: string, postedAt?: number): Promise<void> {
    const k = this.keys(channel);
    await runScript(this.deps.redis, FINISH, [k.outbox, k.payloads, k.last], [key, postedAt ?? '']);
  }
}

/** How a queued post reaches Slack: a thread post through the feature's thread, a DM to its person. */
export function posterDelivery(store: FeatureStore, poster: SlackPort, log: Logger): Deliver {
  return async (delivery, attempt) => {
    if (delivery.kind === 'dm') {
      await attempt?.retried;
      await poster.dm(delivery.team, delivery.user, delivery.message);
      return;
    }
    const [feature, retried] = await Promise.all([store.get(delivery.team, delivery.id), attempt?.retried]);
    // Dropped while its post waited: nothing more is said in its thread.
    if (!feature || feature.status === 'dropped') {
      log.info({ feature: delivery.id }, 'a queued post of a dropped feature was not posted');
      return;
    }
    // Each thread post carries its effect key in Slack's message metadata: a post attempted before
    // is posted again only if the thread does not hold it (PRODUCT.md: every check posted once).
    if (attempt && retried && feature.channel && feature.cardTs) {
      const found = await poster.findInThread(feature.team, feature.channel, feature.cardTs, attempt.key);
      if (found) {
        log.info(
          { feature: delivery.id, key: attempt.key },
          'a post attempted before was found in its thread',
        );
        return;
      }
    }
    await poster.inThread(feature, delivery.message, attempt?.key);
  };
}

export function createPacingQueue(connection: RedisClient, prefix: string): Queue<PaceJob> {
  return new Queue<PaceJob>(PACING_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      // A pacer fails only when Redis does; it is tried again, for a long while.
      attempts: 50,
      backoff: { type: 'exponential', delay: 1000 },
      // Done with: its id is free again, so a later post can re-add a lost pacer of the same generation.
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
}

/** The worker of the pacing queue: many channels at once, each pacer mostly waiting on a timer. */
export function createPacingWorker(opts: {
  connection: RedisClient;
  prefix: string;
  pacing: ChannelPacing;
  deliver: Deliver;
  log: Logger;
}): Worker<PaceJob> {
  const worker: Worker<PaceJob> = new Worker<PaceJob>(
    PACING_QUEUE,
    (job, token) => opts.pacing.run(job, token, opts.deliver, () => worker.closing !== undefined),
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.pacing.settings.concurrency,
      // A pacer is taken over when its process dies; give up on it only after many such deaths.
      maxStalledCount: 100,
    },
  );
  worker.on('failed', (job, err) => {
    if (err instanceof DelayedError) return;
    opts.log.warn({ job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err }, 'pacing job failed');
  });
  worker.on('error', (err) => opts.log.error({ err }, 'pacing worker error'));
  return worker;
}
