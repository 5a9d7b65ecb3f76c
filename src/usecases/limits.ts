import type { DateTime } from 'luxon';
import { teamKey } from '../store/keys';
import type { RedisClient } from '../store/redis-connection';
import { runScript, script } from '../store/scripts';

/** How long a request's trigger is remembered: longer than Slack's 5-minute signature window. */
export const REPLAY_WINDOW_SECONDS = 600;

/**
 * Claims a slot until `until` (ms, by the bot's clock) unless it is held past `now`: returns 0 when
 * claimed, else the milliseconds left. Redis expires the key too, so nothing is left behind.
 */
const TAKE_SCRIPT = script(`
local held = tonumber(redis.call('GET', KEYS[1]))
if held and held > tonumber(ARGV[1]) then return held - tonumber(ARGV[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 0`);

/**
 * Replays and limits on one person, in Redis (shared by every process). Replays are remembered with
 * `SET NX EX`; limits are measured by the bot's clock (passed in), and a refused claim says how long
 * until the slot is free again.
 */
export class Limits {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly now: () => DateTime,
  ) {}

  /**
   * True the first time a request (its trigger_id, unique per slash command, click and submission)
   * is seen within 10 minutes; a replayed signed body is false and must change nothing.
   */
  async firstTime(team: string, trigger: string): Promise<boolean> {
    if (!trigger) return true;
    const key = teamKey(this.prefix, team, 'seen', trigger);
    return (await this.redis.set(key, '1', 'EX', REPLAY_WINDOW_SECONDS, 'NX')) === 'OK';
  }

  /** Claims `what` for `seconds`; when it is taken, the seconds left until it can be asked again. */
  async take(
    team: string,
    what: string,
    seconds: number,
  ): Promise<{ ok: true } | { ok: false; retryIn: number }> {
    const key = teamKey(this.prefix, team, 'limit', what);
    const now = this.now().toMillis();
    const ms = seconds * 1000;
    const left = Number(await runScript(this.redis, TAKE_SCRIPT, [key], [now, now + ms, ms]));
    return left <= 0 ? { ok: true } : { ok: false, retryIn: Math.max(1, Math.ceil(left / 1000)) };
  }
}

/** "42 seconds", "9 minutes": how long until a limited request can be asked again. */
export function waitWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}
