import type { AuditEntry } from '../domain/audit';
import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';

/** The newest entries kept per feature: enough for any real feature's life, bounded for a runaway loop. */
export const AUDIT_ENTRIES_KEPT = 500;

/** The list of a feature's audit entries: `team:{T}:audit:<id>`, in the workspace's hash slot. */
export function auditKey(prefix: string, team: string, id: string): string {
  return teamKey(prefix, team, 'audit', id);
}

/**
 * Every change of a feature, oldest first: a Redis list `team:{T}:audit:<id>` (under the store's prefix),
 * written by the feature store in the same script as the change itself (`FeatureStore`'s `audit`).
 */
export class AuditStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
  ) {}

  async list(team: string, id: string): Promise<AuditEntry[]> {
    const items = await this.redis.lrange(auditKey(this.prefix, team, id), 0, -1);
    return items.map((i) => JSON.parse(i) as AuditEntry);
  }
}
