import { retryAfterMs } from '../slack/slack-failure';
import { channelPaceKeys } from '../store/keys';
import type { Marks } from '../store/marks';
import type { RedisClient } from '../store/redis-connection';

/** Work that must wait `delayMs` before being tried again, without holding a worker meanwhile. */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/**
 * One post a second per channel. A job that must wait reserves its own slot (each waiter a
 * different time, so they do not all wake together and retry), and a job that comes back late
 * still keeps the interval after the channel's last post. Posts queued for the channel's pacer
 * (`ChannelPacing`) go first: while there are any, the job waits behind them without reserving.
 * KEYS: the channel's next free slot, the effect's reservation, the channel's last post, its queued posts.
 * Returns 0 to go now, else the milliseconds to wait.
 */
const SLOT_SCRIPT = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local queued = redis.call('ZCARD', KEYS[4])
if queued > 0 then
  redis.call('DEL', KEYS[2])
  return (queued + 1) * interval
end
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local reserved = tonumber(redis.call('GET', KEYS[2]) or '-1')
if reserved >= 0 then
  if reserved > now then return reserved - now end
  if now - last < interval then return interval - (now - last) end
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[3], now, 'PX', 3600000)
  return 0
end
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextFree <= now and now - last >= interval then
  redis.call('SET', KEYS[1], now + interval, 'PX', 3600000)
  redis.call('SET', KEYS[3], now, 'PX', 3600000)
  return 0
end
local slot = math.max(nextFree, last + interval, now)
redis.call('SET', KEYS[1], slot + interval, 'PX', 3600000)
redis.call('SET', KEYS[2], slot, 'PX', 3600000)
return slot - now`;

/**
 * Slack effects of background jobs: each happens exactly once (keyed, across retries,
 * restarts and processes) and keeps to chat.postMessage's one message a second per channel.
 * When it must wait (its channel's slot, Slack's Retry-After) it throws `RetryLater`, and the
 * job is moved to the delayed set instead of sleeping in a worker.
 */
export class Effects {
  constructor(
    private readonly marks: Marks,
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly perChannelMs = 1100,
  ) {}

  async once(key: string, channel: string, effect: () => Promise<unknown>): Promise<'done' | 'already'> {
    const state = await this.marks.claim(key);
    if (state === 'done') return 'already';
    if (state === 'busy') throw new RetryLater(5_000, `effect ${key} is being done by another run`);
    try {
      const pace = channelPaceKeys(this.prefix, channel, key);
      const wait = Number(
        await this.redis.eval(
          SLOT_SCRIPT,
          4,
          pace.nextFree,
          pace.reserved,
          pace.last,
          pace.outbox,
          Date.now(),
          this.perChannelMs,
        ),
      );
      if (wait > 0) throw new RetryLater(wait, `channel ${channel} posted less than a second ago`);
      await effect();
      await this.marks.done(key);
      return 'done';
    } catch (err) {
      await this.marks.unclaim(key);
      const limited = retryAfterMs(err);
      if (limited !== null) throw new RetryLater(limited, 'Slack rate limit (Retry-After)');
      throw err;
    }
  }
}
