import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';

/** What the digest schedule of a channel is stored as: the parsed schedule, its cron pattern, who set it. */
export interface StoredDigestSchedule {
  schedule: import('../domain/digest-schedule').DigestSchedule;
  cron: string;
  setBy: string;
  setAt: string;
}

/** Each channel's digest schedule, as `/donedone digest every …` set it (`team:{T}:digest:{channel}`). */
export class DigestSchedules {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
  ) {}

  private key(team: string, channel: string): string {
    return teamKey(this.prefix, team, 'digest', channel);
  }

  async get(team: string, channel: string): Promise<StoredDigestSchedule | null> {
    const json = await this.redis.get(this.key(team, channel));
    return json ? (JSON.parse(json) as StoredDigestSchedule) : null;
  }

  async set(team: string, channel: string, schedule: StoredDigestSchedule): Promise<void> {
    await this.redis.set(this.key(team, channel), JSON.stringify(schedule));
  }

  /** True when there was a schedule to remove. */
  async clear(team: string, channel: string): Promise<boolean> {
    return (await this.redis.del(this.key(team, channel))) > 0;
  }
}
