import type { AuditEntry } from '../domain/audit';
import type { Feature } from '../domain/model';
import { AUDIT_ENTRIES_KEPT, auditKey } from './audit-store';
import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';
import { runScript, script } from './scripts';

/**
 * Writes a feature if its version is still the one read, with what goes with the write: its audit
 * entries and, when its owner changed, its place in the owner indexes. One script, so a write is never
 * stored without its trail (nor its trail without it). The entries are pushed first: a script that
 * fails part-way keeps what it wrote, and a failing push (a key of another type) then writes nothing.
 * KEYS: the feature, its audit list, the old owner's index, the new owner's index.
 * ARGV: version read, next version, json, id, id number, entries kept, then the audit entries.
 */
const COMPARE_AND_SET = script(`
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
if #ARGV > 6 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 7))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3])
if KEYS[3] ~= KEYS[4] then
  redis.call('ZREM', KEYS[3], ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4])
end
return 1`);

/** The `json` field of each feature key given, nil for one that is gone. KEYS: the features. */
const LOAD_JSON = script(
  "local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('HGET', k, 'json') or false end return out",
);
const LOAD_CHUNK = 500;

/**
 * Features in Redis. Each feature is a hash `{v, json}` so updates are compare-and-set on
 * the version (a Lua script), safe with one shared connection and several bot processes.
 *
 * Keys (all under `prefix`; `{T}` is the workspace's hash tag, see `keys.ts`): `team:{T}:seq` (the id
 * counter), `team:{T}:f:<id>` (the feature), `team:{T}:ids` (sorted set of ids by number),
 * `team:{T}:owner:<U>` (by owner), `teams` (set of workspaces seen). A feature's checks and notes,
 * the retro index, idempotency marks and digest schedules are stores of their own (check-store.ts,
 * retro-index.ts, marks.ts, digest-schedules.ts).
 */
export class FeatureStore {
  /** Told of every write of a feature (`before` null on creation), after it is stored. */
  private readonly writeListeners: ((before: Feature | null, after: Feature) => Promise<void>)[] = [];

  onWrite(listener: (before: Feature | null, after: Feature) => Promise<void>): void {
    this.writeListeners.push(listener);
  }

  /**
   * `audit` gives the entries a write makes (who, when, what: `auditEntries`); they are stored with
   * the write itself, in `team:{T}:audit:<id>` (read by `AuditStore`). Without it, nothing is recorded.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
    private readonly audit?: (before: Feature | null, after: Feature) => AuditEntry[],
  ) {}

  private trail(before: Feature | null, after: Feature): string[] {
    return this.audit ? this.audit(before, after).map((e) => JSON.stringify(e)) : [];
  }

  private key(team: string, ...parts: string[]): string {
    return teamKey(this.prefix, team, ...parts);
  }

  /** Creates a feature with the next id of the workspace. */
  async create(team: string, make: (id: string) => Omit<Feature, 'id' | 'team'>): Promise<Feature> {
    const n = await this.redis.incr(this.key(team, 'seq'));
    const id = `F-${n}`;
    const feature: Feature = { id, team, ...make(id) };
    // `teams` is in no workspace's slot: added on its own (idempotent), before the feature exists.
    await this.redis.sadd(`${this.prefix}teams`, team);
    const trail = this.trail(null, feature);
    const write = this.redis.multi();
    if (trail.length > 0) {
      const audit = auditKey(this.prefix, team, id);
      write.rpush(audit, ...trail).ltrim(audit, -AUDIT_ENTRIES_KEPT, -1);
    }
    await write
      .hset(this.key(team, 'f', id), 'v', '1', 'json', JSON.stringify(feature))
      .zadd(this.key(team, 'ids'), n, id)
      .zadd(this.key(team, 'owner', feature.ownerId), n, id)
      .exec();
    for (const listener of this.writeListeners) await listener(null, feature);
    return feature;
  }

  async get(team: string, id: string): Promise<Feature | null> {
    const json = await this.redis.hget(this.key(team, 'f', id), 'json');
    return json ? (JSON.parse(json) as Feature) : null;
  }

  /** All features of a workspace, in id order. */
  async list(team: string): Promise<Feature[]> {
    return this.load(team, await this.redis.zrange(this.key(team, 'ids'), 0, -1));
  }

  /** The features one person owns, in id order, read through the owner index. */
  async listByOwner(team: string, ownerId: string): Promise<Feature[]> {
    const features = await this.load(team, await this.redis.zrange(this.key(team, 'owner', ownerId), 0, -1));
    return features.filter((f) => f.ownerId === ownerId);
  }

  private async load(team: string, ids: string[]): Promise<Feature[]> {
    if (ids.length === 0) return [];
    // One script call a chunk, not a command a feature: a list of 50 cost the worker more in
    // ioredis' per-command work than in Redis (the ack bench's worker profile). The keys share the
    // workspace's hash tag, so a chunk stays in one Redis Cluster slot.
    const chunks: Promise<unknown>[] = [];
    for (let i = 0; i < ids.length; i += LOAD_CHUNK) {
      const keys = ids.slice(i, i + LOAD_CHUNK).map((id) => this.key(team, 'f', id));
      chunks.push(runScript(this.redis, LOAD_JSON, keys, []));
    }
    const results = (await Promise.all(chunks)).flat() as (string | null)[];
    return results.flatMap((json) => (typeof json === 'string' ? [JSON.parse(json) as Feature] : []));
  }

  async teams(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}teams`);
  }

  /**
   * Applies `change` to the stored feature and writes it back if nobody wrote in between;
   * retries on a conflict. `change` returns null to leave the feature as it is.
   */
  async update(team: string, id: string, change: (f: Feature) => Feature | null): Promise<Feature | null> {
    const key = this.key(team, 'f', id);
    for (let attempt = 0; attempt < 10; attempt++) {
      const [version, json] = await this.redis.hmget(key, 'v', 'json');
      if (!version || !json) return null;
      // `change` gets its own copy: it may change it in place, and `before` must stay as stored.
      const next = change(JSON.parse(json) as Feature);
      const before = JSON.parse(json) as Feature;
      if (next === null) return before;
      const written = await runScript(
        this.redis,
        COMPARE_AND_SET,
        [
          key,
          auditKey(this.prefix, team, id),
          this.key(team, 'owner', before.ownerId),
          this.key(team, 'owner', next.ownerId),
        ],
        [
          version,
          String(Number(version) + 1),
          JSON.stringify(next),
          id,
          id.slice(2),
          String(AUDIT_ENTRIES_KEPT),
          ...this.trail(before, next),
        ],
      );
      if (written === 1) {
        for (const listener of this.writeListeners) await listener(before, next);
        return next;
      }
    }
    throw new Error(`feature ${id} changed too often to update`);
  }
}
