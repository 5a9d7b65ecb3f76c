import type { Feature } from '../domain/model';
import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';
import { runScript, script } from './scripts';

/** Writes a feature if its version is still the one read. KEYS: the feature. ARGV: version read, next, json. */
const COMPARE_AND_SET = script(
  "if redis.call('HGET', KEYS[1], 'v') == ARGV[1] then redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3]) return 1 end return 0",
);

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
  /** Told of every write of a feature (`before` null on creation): the audit trail listens here. */
  private readonly writeListeners: ((before: Feature | null, after: Feature) => Promise<void>)[] = [];

  onWrite(listener: (before: Feature | null, after: Feature) => Promise<void>): void {
    this.writeListeners.push(listener);
  }

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
  ) {}

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
    await this.redis
      .multi()
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
      const next = change(JSON.parse(json) as Feature);
      if (next === null) return JSON.parse(json) as Feature;
      const written = await runScript(
        this.redis,
        COMPARE_AND_SET,
        [key],
        [version, String(Number(version) + 1), JSON.stringify(next)],
      );
      if (written === 1) {
        const before = JSON.parse(json) as Feature;
        if (before.ownerId !== next.ownerId) {
          const n = Number(id.slice(2));
          await this.redis
            .multi()
            .zrem(this.key(team, 'owner', before.ownerId), id)
            .zadd(this.key(team, 'owner', next.ownerId), n, id)
            .exec();
        }
        for (const listener of this.writeListeners) await listener(before, next);
        return next;
      }
    }
    throw new Error(`feature ${id} changed too often to update`);
  }
}
