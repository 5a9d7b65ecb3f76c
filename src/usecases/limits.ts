import type { Redis } from 'ioredis';

/** How long a request's trigger is remembered: longer than Slack's 5-minute signature window. */
export const REPLAY_WINDOW_SECONDS = 600;

/**
 * Replays and limits on one person, in Redis (shared by every process): `SET NX EX` claims a slot, and a
 * refused claim says how long until the slot is free again.
 */
export class Limits {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'dd:',
  ) {}

  /**
   * True the first time a request (its trigger_id, unique per slash command, click and submission)
   * is seen within 10 minutes; a replayed signed body is false and must change nothing.
   */
  async firstTime(team: string, trigger: string): Promise<boolean> {
    if (!trigger) return true;
    const key = `${this.prefix}team:${team}:seen:${trigger}`;
    return (await this.redis.set(key, '1', 'EX', REPLAY_WINDOW_SECONDS, 'NX')) === 'OK';
  }

  /** Claims `what` for `seconds`; when it is taken, the seconds left until it can be asked again. */
  async take(
    team: string,
    what: string,
    seconds: number,
  ): Promise<{ ok: true } | { ok: false; retryIn: number }> {
    const key = `${this.prefix}team:${team}:limit:${what}`;
    if ((await this.redis.set(key, '1', 'EX', seconds, 'NX')) === 'OK') return { ok: true };
    const ttl = await this.redis.ttl(key);
    return { ok: false, retryIn: Math.max(1, ttl) };
  }
}

/** "42 seconds", "9 minutes": how long until a limited request can be asked again. */
export function waitWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}
