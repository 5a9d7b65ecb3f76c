import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';

/** Which feature a retro message belongs to (`team:{T}:retro:{channel}:{ts}`), so replies in its thread become notes. */
export class RetroIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
  ) {}

  private key(team: string, channel: string, ts: string): string {
    return teamKey(this.prefix, team, 'retro', channel, ts);
  }

  async add(team: string, channel: string, ts: string, id: string): Promise<void> {
    await this.redis.set(this.key(team, channel, ts), id);
  }

  /** The feature whose retro message is `ts` in `channel`, or null. */
  async featureOf(team: string, channel: string, ts: string): Promise<string | null> {
    return this.redis.get(this.key(team, channel, ts));
  }
}
