import { createHash, randomBytes } from 'node:crypto';
import type { DateTime } from 'luxon';
import { teamKey } from '../store/keys';
import type { RedisClient } from '../store/redis-connection';

/** What is kept of a workspace's API token: never the token, only its hash and its prefix. */
export interface ApiTokenInfo {
  /** The first characters of the token, to tell tokens apart in `api-token list` and to revoke one. */
  prefix: string;
  team: string;
  createdBy: string;
  createdAt: string;
}

const TOKEN_START = 'ddw_';
const PREFIX_LENGTH = TOKEN_START.length + 6;

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Per-workspace API tokens (`/donedone api-token`): 32 random bytes, shown once and stored as
 * their SHA-256 (a high-entropy token needs no slow hash), so Redis never holds one in clear.
 * `api-token:<hash>` finds a token's workspace; `team:{T}:api-tokens` lists a workspace's. The two lie in
 * different hash slots (a token is looked up before its workspace is known), so they are changed one after
 * the other, the lookup first: a revoked token stops working at once, and a revoke cut short is done again.
 */
export class ApiTokens {
  constructor(private readonly deps: { redis: RedisClient; prefix: string; now: () => DateTime }) {}

  private byHash(hash: string): string {
    return `${this.deps.prefix}api-token:${hash}`;
  }

  private ofTeam(team: string): string {
    return teamKey(this.deps.prefix, team, 'api-tokens');
  }

  /** A new token for `team`; the only time it is ever seen in clear. */
  async create(team: string, createdBy: string): Promise<{ token: string; info: ApiTokenInfo }> {
    for (;;) {
      const token = `${TOKEN_START}${randomBytes(32).toString('base64url')}`;
      const info: ApiTokenInfo = {
        prefix: token.slice(0, PREFIX_LENGTH),
        team,
        createdBy,
        createdAt: this.deps.now().toUTC().toISO()!,
      };
      const hash = hashOf(token);
      // A prefix already used in this workspace would make `revoke <prefix>` ambiguous: draw again.
      const added = await this.deps.redis.hsetnx(
        this.ofTeam(team),
        info.prefix,
        JSON.stringify({ ...info, hash }),
      );
      if (!added) continue;
      await this.deps.redis.set(this.byHash(hash), JSON.stringify(info));
      return { token, info };
    }
  }

  /** The workspace a token serves, or null for an unknown (or revoked) token. */
  async teamOf(token: string): Promise<string | null> {
    if (!token.startsWith(TOKEN_START)) return null;
    const json = await this.deps.redis.get(this.byHash(hashOf(token)));
    return json ? (JSON.parse(json) as ApiTokenInfo).team : null;
  }

  async list(team: string): Promise<ApiTokenInfo[]> {
    const all = await this.deps.redis.hvals(this.ofTeam(team));
    return all
      .map((json) => {
        const { hash: _hash, ...info } = JSON.parse(json) as ApiTokenInfo & { hash: string };
        return info;
      })
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Revokes the workspace's token with that prefix; false when it has none. */
  async revoke(team: string, prefix: string): Promise<boolean> {
    const json = await this.deps.redis.hget(this.ofTeam(team), prefix);
    if (!json) return false;
    const { hash } = JSON.parse(json) as { hash: string };
    await this.deps.redis.del(this.byHash(hash));
    await this.deps.redis.hdel(this.ofTeam(team), prefix);
    return true;
  }

  /** Revokes every token of a workspace (when it is forgotten). */
  async revokeAll(team: string): Promise<number> {
    const all = await this.deps.redis.hgetall(this.ofTeam(team));
    const hashes = Object.values(all).map((json) => (JSON.parse(json) as { hash: string }).hash);
    for (const hash of hashes) await this.deps.redis.del(this.byHash(hash));
    await this.deps.redis.del(this.ofTeam(team));
    return hashes.length;
  }
}

/** Whether text looks like a workspace API token's prefix (`ddw_` and six characters). */
export function isTokenPrefix(text: string): boolean {
  return new RegExp(`^${TOKEN_START}[A-Za-z0-9_-]{6}$`).test(text);
}
