import type { Check } from '../domain/model';
import { teamKey } from './keys';
import type { RedisClient } from './redis-connection';

/** A note taken in a retro thread. */
export interface Note {
  user: string;
  text: string;
  at: string;
  ts: string;
}

/**
 * A feature's checks (`team:{T}:checks:{id}`, a hash keyed by time and kind) and its retro notes
 * (`team:{T}:notes:{id}`, a list, oldest first).
 */
export class CheckStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = 'dd:',
  ) {}

  private key(team: string, ...parts: string[]): string {
    return teamKey(this.prefix, team, ...parts);
  }

  /** Stores a check, keyed by its time and kind: storing the same check twice keeps one. */
  async add(team: string, id: string, check: Check): Promise<void> {
    await this.redis.hset(this.key(team, 'checks', id), `${check.at}|${check.kind}`, JSON.stringify(check));
  }

  /** Removes the checks that `which` selects (a relaunch starts a new series of scheduled checks). */
  async clear(team: string, id: string, which: (c: Check) => boolean): Promise<void> {
    const key = this.key(team, 'checks', id);
    const all = await this.redis.hgetall(key);
    const fields = Object.entries(all)
      .filter(([, json]) => which(JSON.parse(json) as Check))
      .map(([field]) => field);
    if (fields.length > 0) await this.redis.hdel(key, ...fields);
  }

  /** The checks of a feature, oldest first. */
  async list(team: string, id: string): Promise<Check[]> {
    const items = await this.redis.hvals(this.key(team, 'checks', id));
    return items.map((item) => JSON.parse(item) as Check).sort((a, b) => a.at.localeCompare(b.at));
  }

  async addNote(team: string, id: string, note: Note): Promise<void> {
    await this.redis.rpush(this.key(team, 'notes', id), JSON.stringify(note));
  }

  async notes(team: string, id: string): Promise<Note[]> {
    const items = await this.redis.lrange(this.key(team, 'notes', id), 0, -1);
    return items.map((item) => JSON.parse(item) as Note);
  }
}
