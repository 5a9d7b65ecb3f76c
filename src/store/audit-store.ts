import type { AuditEntry } from '../domain/audit';
import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';

/** The newest entries kept per feature: enough for any real feature's life, bounded for a runaway loop. */
const MAX_ENTRIES = 500;

/**
 * Every change of a feature, oldest first: a Redis list `team:{T}:audit:<id>` (under the store's prefix),
 * appended by the feature store's write hook.
 */
export class AuditStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
  ) {}

  private key(team: string, id: string): string {
    return teamKey(this.prefix, team, 'audit', id);
  }

  async record(team: string, id: string, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.redis
      .multi()
      .rpush(this.key(team, id), ...entries.map((e) => JSON.stringify(e)))
      .ltrim(this.key(team, id), -MAX_ENTRIES, -1)
      .exec();
  }

  async list(team: string, id: string): Promise<AuditEntry[]> {
    const items = await this.redis.lrange(this.key(team, id), 0, -1);
    return items.map((i) => JSON.parse(i) as AuditEntry);
  }
}
