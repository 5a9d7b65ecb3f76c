import type { Check, Feature } from '../domain/model';
import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';

/**
 * Features in Redis. Each feature is a hash `{v, json}` so updates are compare-and-set on
 * the version (a Lua script), safe with one shared connection and several bot processes.
 *
 * Keys (all under `prefix`; `{T}` is the workspace's hash tag, see `keys.ts`): `team:{T}:seq` (the id
 * counter), `team:{T}:f:<id>` (the feature), `team:{T}:ids` (sorted set of ids by number),
 * `team:{T}:checks:<id>` (hash of checks), `teams` (set of workspaces seen), `once:<key>` (idempotency
 * markers), `team:{T}:digest:<channel>` (a channel's digest schedule).
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
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.key(team, 'f', id), 'json');
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([, json]) => (typeof json === 'string' ? [JSON.parse(json) as Feature] : []));
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
      const written = await this.redis.eval(
        "if redis.call('HGET', KEYS[1], 'v') == ARGV[1] then redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3]) return 1 end return 0",
        1,
        key,
        version,
        String(Number(version) + 1),
        JSON.stringify(next),
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

  /** Stores a check, keyed by its time and kind: storing the same check twice keeps one. */
  async addCheck(team: string, id: string, check: Check): Promise<void> {
    await this.redis.hset(this.key(team, 'checks', id), `${check.at}|${check.kind}`, JSON.stringify(check));
  }

  /** Removes the checks that `which` selects (a relaunch starts a new series of scheduled checks). */
  async clearChecks(team: string, id: string, which: (c: Check) => boolean): Promise<void> {
    const key = this.key(team, 'checks', id);
    const all = await this.redis.hgetall(key);
    const fields = Object.entries(all)
      .filter(([, json]) => which(JSON.parse(json) as Check))
      .map(([field]) => field);
    if (fields.length > 0) await this.redis.hdel(key, ...fields);
  }

  /** The checks of a feature, oldest first. */
  async checks(team: string, id: string): Promise<Check[]> {
    const items = await this.redis.hvals(this.key(team, 'checks', id));
    return items.map((item) => JSON.parse(item) as Check).sort((a, b) => a.at.localeCompare(b.at));
  }

  async addNote(
    team: string,
    id: string,
    note: { user: string; text: string; at: string; ts: string },
  ): Promise<void> {
    await this.redis.rpush(this.key(team, 'notes', id), JSON.stringify(note));
  }

  async notes(team: string, id: string): Promise<{ user: string; text: string; at: string; ts: string }[]> {
    const items = await this.redis.lrange(this.key(team, 'notes', id), 0, -1);
    return items.map((item) => JSON.parse(item));
  }

  /** Remembers which feature a retro message belongs to, so replies in its thread become notes. */
  async indexRetro(team: string, channel: string, ts: string, id: string): Promise<void> {
    await this.redis.set(this.key(team, 'retro', channel, ts), id);
  }

  /** The feature whose retro message is `ts` in `channel`, or null. */
  async retroFeature(team: string, channel: string, ts: string): Promise<string | null> {
    return this.redis.get(this.key(team, 'retro', channel, ts));
  }

  /** True the first time `key` is claimed within `ttlSeconds`: makes retried events and jobs act once. */
  async once(key: string, ttlSeconds = 7 * 24 * 3600): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}once:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  /**
   * Exactly-once effects across retries, restarts and several processes: `claimed` means do it
   * now (then call `done`), `done` means it was done, `busy` means another run holds it. A
   * claim lapses after `leaseSeconds`, so a process killed mid-way does not block it forever.
   */
  async claim(key: string, leaseSeconds = 120): Promise<'claimed' | 'done' | 'busy'> {
    const k = `${this.prefix}effect:${key}`;
    if ((await this.redis.set(k, 'pending', 'EX', leaseSeconds, 'NX')) === 'OK') return 'claimed';
    return (await this.redis.get(k)) === 'done' ? 'done' : 'busy';
  }

  async done(key: string): Promise<void> {
    await this.redis.set(`${this.prefix}effect:${key}`, 'done', 'EX', 400 * 24 * 3600);
  }

  async unclaim(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}effect:${key}`);
  }

  /** Remembers `value` under `key` for a week (which feature a retried request already created). */
  async remember(team: string, key: string, value: string): Promise<void> {
    await this.redis.set(this.key(team, 'made', key), value, 'EX', 7 * 24 * 3600);
  }

  async recall(team: string, key: string): Promise<string | null> {
    return this.redis.get(this.key(team, 'made', key));
  }

  /** Gives a claimed key back, when the work it guarded failed and should be tried again. */
  async release(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}once:${key}`);
  }

  /** A channel's digest schedule, as `/donedone digest every …` set it (`team:{T}:digest:{channel}`). */
  async digestSchedule(team: string, channel: string): Promise<StoredDigestSchedule | null> {
    const json = await this.redis.get(this.key(team, 'digest', channel));
    return json ? (JSON.parse(json) as StoredDigestSchedule) : null;
  }

  async setDigestSchedule(team: string, channel: string, schedule: StoredDigestSchedule): Promise<void> {
    await this.redis.set(this.key(team, 'digest', channel), JSON.stringify(schedule));
  }

  /** True when there was a schedule to remove. */
  async clearDigestSchedule(team: string, channel: string): Promise<boolean> {
    return (await this.redis.del(this.key(team, 'digest', channel))) > 0;
  }
}

/** What the digest schedule of a channel is stored as: the parsed schedule, its cron pattern, who set it. */
export interface StoredDigestSchedule {
  schedule: import('../domain/digest-schedule').DigestSchedule;
  cron: string;
  setBy: string;
  setAt: string;
}
