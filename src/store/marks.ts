import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';

/**
 * Idempotency marks: what makes retried events, replayed requests and re-run jobs act once.
 * `once:{key}` (a first-time marker), `effect:{key}` (an exactly-once effect: pending while
 * claimed, done after), `team:{T}:made:{key}` (what a retried request already created).
 */
export class Marks {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
  ) {}

  /** True the first time `key` is claimed within `ttlSeconds`: makes retried events and jobs act once. */
  async once(key: string, ttlSeconds = 7 * 24 * 3600): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}once:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  /** Gives a `once` key back, when the work it guarded failed and should be tried again. */
  async release(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}once:${key}`);
  }

  /**
   * Exactly-once effects across retries, restarts and several processes: `claimed` means do it
   * now (then call `done`), `done` means it was done, `busy` means another run holds it. A
   * claim lapses after `leaseSeconds`, so a process killed mid-way does not block it forever.
   */
  async claim(key: string, leaseSeconds = 120): Promise<'claimed' | 'done' | 'busy'> {
    const k = this.effectKey(key);
    if ((await this.redis.set(k, 'pending', 'EX', leaseSeconds, 'NX')) === 'OK') return 'claimed';
    return (await this.redis.get(k)) === 'done' ? 'done' : 'busy';
  }

  async done(key: string): Promise<void> {
    await this.redis.set(this.effectKey(key), 'done', 'EX', 400 * 24 * 3600);
  }

  async unclaim(key: string): Promise<void> {
    await this.redis.del(this.effectKey(key));
  }

  /**
   * Records that an effect is about to be attempted; true when it had been attempted before (a run
   * that died between Slack's answer and `done` may have done it: the caller looks before redoing).
   */
  async attempt(key: string): Promise<boolean> {
    const k = `${this.prefix}attempt:${key}`;
    return (await this.redis.set(k, '1', 'EX', 30 * 24 * 3600, 'NX')) !== 'OK';
  }

  /** Whether the effect `key` was done. */
  async isDone(key: string): Promise<boolean> {
    return (await this.redis.get(this.effectKey(key))) === 'done';
  }

  /** The Redis key of an effect's claim (`done` once it happened): scripts that must see it read it there. */
  effectKey(key: string): string {
    return `${this.prefix}effect:${key}`;
  }

  /** Remembers `value` under `key` for a week (which feature a retried request already created). */
  async remember(team: string, key: string, value: string): Promise<void> {
    await this.redis.set(teamKey(this.prefix, team, 'made', key), value, 'EX', 7 * 24 * 3600);
  }

  async recall(team: string, key: string): Promise<string | null> {
    return this.redis.get(teamKey(this.prefix, team, 'made', key));
  }
}
