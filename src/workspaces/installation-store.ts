import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import type { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { installKey } from '../store/keys';
import type { RedisClient } from '../store/redis-connection';
import type { TokenCipher } from './token-cipher';
import type { Installed, WorkspaceRef, Workspaces } from './types';

type AnyInstallation = Installation<'v1' | 'v2', boolean>;

/** What Bolt's `authorize` answers for a request: the workspace's bot and ids. */
export interface Authorization {
  botToken: string;
  botId?: string;
  botUserId?: string;
  teamId?: string;
  enterpriseId?: string;
}

/** Bolt's source of a request, as far as an installation is concerned. */
export interface AuthorizeSource {
  teamId?: string;
  enterpriseId?: string;
  isEnterpriseInstall?: boolean;
}

/** Thrown when no installation serves a request: Bolt then runs no listener. */
export class NotInstalledError extends Error {
  constructor(ref: AuthorizeSource) {
    super(
      `donedone is not installed in ${ref.isEnterpriseInstall ? `enterprise ${ref.enterpriseId}` : `workspace ${ref.teamId}`}`,
    );
    this.name = 'NotInstalledError';
  }
}

// Re-encrypts a record only if it still holds the ciphertext that was read: a fresh install
// (or another process's rotation) written meanwhile is never overwritten with older data.
const REWRAP = `
if redis.call('HGET', KEYS[1], 'data') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'data', ARGV[2], 'key', ARGV[3])
  return 1
end
return 0`;

/**
 * Slack installations in Redis, tokens encrypted at rest (PRODUCT.md "Many workspaces").
 *
 * Implements Bolt's `InstallationStore` (the OAuth install writes here) and donedone's
 * `Workspaces` (every piece of work asks here for its workspace's token). The whole installation
 * Slack returned (bot token, any user token, webhook URL) is one AES-256-GCM ciphertext bound to
 * its record's id; only ids and dates are stored in clear.
 *
 * An installation is `{installs}:install:T-<team>` (all installation keys share the `{installs}` hash
 * tag: they change together, see `keys.ts`), or `install:E-<enterprise>` for an Enterprise Grid
 * org-wide install, which serves every team of that enterprise: the teams seen through it are
 * remembered, so work that knows only its team (a scheduled job) finds the enterprise's install.
 *
 * Nothing decrypted is cached: a lookup is one HGETALL and a decryption of a few hundred bytes,
 * so an uninstall in any process is seen by every other at its next lookup, with no invalidation
 * protocol to get wrong.
 */
export class RedisInstallationStore implements InstallationStore, Workspaces {
  constructor(
    private readonly deps: {
      redis: RedisClient;
      prefix: string;
      cipher: TokenCipher;
      now: () => DateTime;
      log: Logger;
    },
  ) {}

  private key(...parts: string[]): string {
    return installKey(this.deps.prefix, ...parts);
  }

  private static idOf(installation: AnyInstallation): string {
    if (installation.isEnterpriseInstall && installation.enterprise?.id)
      return `E-${installation.enterprise.id}`;
    if (installation.team?.id) return `T-${installation.team.id}`;
    throw new Error('An installation without a team or an enterprise cannot be stored');
  }

  // -- Bolt's InstallationStore --

  async storeInstallation(installation: AnyInstallation): Promise<void> {
    const id = RedisInstallationStore.idOf(installation);
    const { redis } = this.deps;
    const data = this.deps.cipher.encrypt(JSON.stringify(installation), id);
    const enterprise = installation.enterprise?.id ?? '';
    const team = installation.isEnterpriseInstall ? '' : (installation.team?.id ?? '');
    const multi = redis
      .multi()
      .hset(this.key('install', id), {
        data,
        key: this.deps.cipher.currentKeyId,
        team,
        enterprise,
        installedAt: this.deps.now().toUTC().toISO()!,
      })
      .sadd(this.key('installs'), id);
    // Installed again: no longer waiting to be forgotten.
    const teams = team ? [team] : await redis.smembers(this.key('install-teams', id));
    if (teams.length > 0) multi.zrem(this.key('uninstalled'), ...teams);
    await multi.exec();
    this.deps.log.info({ team: team || undefined, enterprise: enterprise || undefined }, 'installed');
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<AnyInstallation> {
    const found = await this.find(query);
    if (!found) return this.refuse(query);
    return found;
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await this.uninstall(query);
  }

  // -- donedone's Workspaces --

  async installed(ref: WorkspaceRef): Promise<Installed | null> {
    const found = await this.find({
      teamId: ref.team,
      ...(ref.enterprise ? { enterpriseId: ref.enterprise } : {}),
      isEnterpriseInstall: false,
    });
    if (!found?.bot?.token) return null;
    return {
      botToken: found.bot.token,
      ...(found.bot.id ? { botId: found.bot.id } : {}),
      ...(found.bot.userId ? { botUserId: found.bot.userId } : {}),
    };
  }

  /** Bolt's `authorize` for a request: its workspace's bot, or NotInstalledError. */
  async authorize(source: AuthorizeSource): Promise<Authorization> {
    const found = await this.find(source);
    if (!found?.bot?.token) return this.refuse(source);
    return {
      botToken: found.bot.token,
      ...(found.bot.id ? { botId: found.bot.id } : {}),
      ...(found.bot.userId ? { botUserId: found.bot.userId } : {}),
      ...(source.teamId ? { teamId: source.teamId } : found.team?.id ? { teamId: found.team.id } : {}),
      ...(found.enterprise?.id ? { enterpriseId: found.enterprise.id } : {}),
    };
  }

  /**
   * Deletes the installation serving `ref` (app_uninstalled, tokens_revoked) and marks its
   * teams uninstalled now, for retention. Returns those teams (none when nothing was installed).
   */
  async uninstall(ref: AuthorizeSource): Promise<string[]> {
    const id = await this.idFor(ref);
    if (!id) return [];
    const { redis } = this.deps;
    const teams = id.startsWith('E-') ? await redis.smembers(this.key('install-teams', id)) : [id.slice(2)];
    const at = this.deps.now().toMillis();
    const multi = redis.multi().del(this.key('install', id)).srem(this.key('installs'), id);
    for (const team of teams) multi.zadd(this.key('uninstalled'), at, team);
    await multi.exec();
    this.deps.log.info({ install: id, teams }, 'uninstalled: tokens deleted');
    return teams;
  }

  /** Teams uninstalled at or before `at` (ms), oldest first. */
  uninstalledBefore(at: number): Promise<string[]> {
    return this.deps.redis.zrangebyscore(this.key('uninstalled'), '-inf', at);
  }

  /** Whether the team is uninstalled and waiting for retention (or forgetting). */
  async isUninstalled(team: string): Promise<boolean> {
    return (await this.deps.redis.zscore(this.key('uninstalled'), team)) !== null;
  }

  /** Drops what is kept about a team's installation (after its features were deleted). */
  async forgetTeam(team: string): Promise<void> {
    const { redis } = this.deps;
    const enterprise = await redis.get(this.key('install-team-enterprise', team));
    const multi = redis
      .multi()
      .zrem(this.key('uninstalled'), team)
      .del(this.key('install-team-enterprise', team));
    if (enterprise) multi.srem(this.key('install-teams', `E-${enterprise}`), team);
    await multi.exec();
  }

  /**
   * Re-encrypts every installation made with another key than DONEDONE_ENCRYPTION_KEY (the
   * start-up step of a key rotation). Safe in several processes at once; returns how many it
   * re-encrypted, and how many no configured key opens (they are logged, never deleted).
   */
  async reencrypt(): Promise<{ reencrypted: number; unreadable: number }> {
    const { redis, cipher, log } = this.deps;
    let reencrypted = 0;
    let unreadable = 0;
    for (const id of await redis.smembers(this.key('installs'))) {
      const data = await redis.hget(this.key('install', id), 'data');
      if (!data || !cipher.isStale(data)) continue;
      try {
        const fresh = cipher.encrypt(cipher.decrypt(data, id), id);
        reencrypted += Number(
          await redis.eval(REWRAP, 1, this.key('install', id), data, fresh, cipher.currentKeyId),
        );
      } catch (err) {
        unreadable++;
        log.error(
          { install: id, err },
          'an installation no configured key decrypts: set DONEDONE_ENCRYPTION_KEY_OLD to the key it was made with',
        );
      }
    }
    if (reencrypted > 0)
      log.info({ reencrypted, key: cipher.currentKeyId }, 're-encrypted installations with the new key');
    return { reencrypted, unreadable };
  }

  /** A request no installation serves (uninstalled, never installed): logged, then refused. */
  private refuse(ref: AuthorizeSource): never {
    this.deps.log.info(
      { team: ref.teamId, enterprise: ref.enterpriseId, orgWide: ref.isEnterpriseInstall },
      'refused a request: donedone is not installed there',
    );
    throw new NotInstalledError(ref);
  }

  /** The id of the installation serving `ref`, if one is stored. */
  private async idFor(ref: AuthorizeSource): Promise<string | null> {
    const { redis } = this.deps;
    if (ref.isEnterpriseInstall && ref.enterpriseId) {
      const id = `E-${ref.enterpriseId}`;
      return (await redis.exists(this.key('install', id))) ? id : null;
    }
    if (ref.teamId) {
      const id = `T-${ref.teamId}`;
      if (await redis.exists(this.key('install', id))) return id;
    }
    // A team of an enterprise installed org-wide: known from the request, or remembered.
    const enterprise =
      ref.enterpriseId ??
      (ref.teamId ? await redis.get(this.key('install-team-enterprise', ref.teamId)) : null);
    if (!enterprise) return null;
    const id = `E-${enterprise}`;
    return (await redis.exists(this.key('install', id))) ? id : null;
  }

  private async find(ref: AuthorizeSource): Promise<AnyInstallation | null> {
    const { redis, cipher, log } = this.deps;
    const id = await this.idFor(ref);
    if (!id) return null;
    const data = await redis.hget(this.key('install', id), 'data');
    if (!data) return null;
    let installation: AnyInstallation;
    try {
      installation = JSON.parse(cipher.decrypt(data, id)) as AnyInstallation;
    } catch (err) {
      log.error({ install: id, err }, 'cannot decrypt an installation; its workspace is not served');
      return null;
    }
    if (id.startsWith('E-') && ref.teamId) {
      // Remember the team under its enterprise: uninstalling the org marks it, and its jobs find the install.
      const added = await redis.sadd(this.key('install-teams', id), ref.teamId);
      if (added) await redis.set(this.key('install-team-enterprise', ref.teamId), id.slice(2));
    }
    return installation;
  }
}
