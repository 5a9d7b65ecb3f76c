import type { Logger } from 'pino';
import type { Feature } from '../domain/model';
import type { ConversationKind, Directory } from '../slack/port';
import { teamKey } from '../store/keys';
import type { RedisClient } from '../store/redis-connection';

export interface AccessDeps {
  redis: RedisClient;
  prefix: string;
  directory: Directory;
  /** `DONEDONE_ADMINS`. */
  admins: readonly string[];
  log: Logger;
}

/** How long Slack's answers are trusted. Membership is also kept fresh by member_joined/left events. */
const KIND_TTL_SECONDS = 6 * 3600;
const MEMBERS_TTL_SECONDS = 3600;
const ADMIN_TTL_SECONDS = 3600;
/** Marks a loaded member set (a set cannot be empty in Redis, and "loaded, empty" must differ from "unknown"). */
const LOADED = '.';

/**
 * Who may see and change a feature (PRODUCT.md "Who may see and change a feature").
 *
 * - Change (expect, launch, drop, flag, canary, guard, owner, iterate, a retro decision already taken):
 *   the owner, the proposer, `DONEDONE_ADMINS` and the workspace's admins and owners (users.info).
 * - See: a feature proposed in a private channel, a DM or a group DM is seen only by that conversation's
 *   members (and by its owner and proposer, who always see their own). Everything else is public.
 *
 * Slack's answers are cached in Redis with a TTL. When Slack cannot say, a feature stays hidden (its owner
 * and proposer still see it): a private roadmap shown by mistake cannot be taken back.
 */
export class AccessService {
  constructor(private readonly deps: AccessDeps) {}

  private key(team: string, ...parts: string[]): string {
    return teamKey(this.deps.prefix, team, 'access', ...parts);
  }

  async isAdmin(team: string, user: string): Promise<boolean> {
    if (this.deps.admins.includes(user)) return true;
    const key = this.key(team, 'admin', user);
    const cached = await this.deps.redis.get(key);
    if (cached !== null) return cached === '1';
    try {
      const admin = await this.deps.directory.isWorkspaceAdmin(team, user);
      await this.deps.redis.set(key, admin ? '1' : '0', 'EX', ADMIN_TTL_SECONDS);
      return admin;
    } catch (err) {
      this.deps.log.warn({ user, err }, 'users.info failed; not treating as admin');
      return false;
    }
  }

  async canChange(team: string, user: string, feature: Feature): Promise<boolean> {
    if (user === feature.ownerId || user === feature.proposedBy) return true;
    return this.isAdmin(team, user);
  }

  /** The answer to someone who may not change `feature`: names who can. */
  whoCan(feature: Feature): string {
    const people =
      feature.ownerId === feature.proposedBy
        ? `<@${feature.ownerId}>`
        : `<@${feature.ownerId}>, <@${feature.proposedBy}>`;
    return `Only ${people} or an admin can change ${feature.id}. Nothing changed. Ask them, or ask its owner to hand it over: \`/donedone owner ${feature.id} @you\`.`;
  }

  /** The answer about a feature someone may not see: the same as for a feature that does not exist. */
  notFound(id: string): string {
    return `There is no feature ${id} that you can see in this workspace. \`/donedone list all\` shows every feature you can see.`;
  }

  async kindOf(team: string, channel: string): Promise<ConversationKind> {
    // A card posted to a user id (the Home tab's proposals) lives in the App's DM with that person.
    if (/^[UW]/.test(channel)) return 'im';
    const key = this.key(team, 'kind', channel);
    const cached = await this.deps.redis.get(key);
    if (cached) return cached as ConversationKind;
    const kind = await this.deps.directory.conversationKind(team, channel);
    await this.deps.redis.set(key, kind, 'EX', KIND_TTL_SECONDS);
    return kind;
  }

  async isMember(team: string, channel: string, user: string): Promise<boolean> {
    if (/^[UW]/.test(channel)) return channel === user;
    const key = this.key(team, 'members', channel);
    const [loaded, member] = await this.deps.redis
      .multi()
      .sismember(key, LOADED)
      .sismember(key, user)
      .exec()
      .then((r) => (r ?? []).map(([, v]) => v === 1));
    if (loaded) return Boolean(member);
    const members = await this.deps.directory.members(team, channel);
    await this.deps.redis
      .multi()
      .del(key)
      .sadd(key, LOADED, ...members)
      .expire(key, MEMBERS_TTL_SECONDS)
      .exec();
    return members.includes(user);
  }

  /** member_joined_channel / member_left_channel: keeps a cached member set current (an uncached one loads fresh). */
  async membershipChanged(team: string, channel: string, user: string, joined: boolean): Promise<void> {
    const key = this.key(team, 'members', channel);
    if (!(await this.deps.redis.sismember(key, LOADED))) return;
    if (joined) await this.deps.redis.sadd(key, user);
    else await this.deps.redis.srem(key, user);
  }

  /** Whether `user` may see `feature`. */
  async canSee(team: string, user: string, feature: Feature): Promise<boolean> {
    if (user === feature.ownerId || user === feature.proposedBy) return true;
    if (!feature.channel) return true;
    try {
      if ((await this.kindOf(team, feature.channel)) === 'public') return true;
      return await this.isMember(team, feature.channel, user);
    } catch (err) {
      this.deps.log.warn(
        { feature: feature.id, channel: feature.channel, err },
        'could not tell who may see a feature; hiding it',
      );
      return false;
    }
  }

  /** The features `user` may see, in the order given. One Slack question per conversation at most. */
  async visibleTo(team: string, user: string, features: readonly Feature[]): Promise<Feature[]> {
    const byChannel = new Map<string, Promise<boolean>>();
    const out: Feature[] = [];
    for (const f of features) {
      if (user === f.ownerId || user === f.proposedBy || !f.channel) {
        out.push(f);
        continue;
      }
      let seen = byChannel.get(f.channel);
      if (!seen) {
        seen = this.canSee(team, user, { ...f, ownerId: '', proposedBy: '' });
        byChannel.set(f.channel, seen);
      }
      if (await seen) out.push(f);
    }
    return out;
  }

  /**
   * What may be posted in `channel` for everyone there to read: features of public conversations, and
   * those of that conversation itself.
   */
  async visibleIn(team: string, channel: string, features: readonly Feature[]): Promise<Feature[]> {
    const kinds = new Map<string, Promise<boolean>>();
    const out: Feature[] = [];
    for (const f of features) {
      if (!f.channel || f.channel === channel) {
        out.push(f);
        continue;
      }
      const c = f.channel;
      let open = kinds.get(c);
      if (!open) {
        open = this.kindOf(team, c)
          .then((k) => k === 'public')
          .catch(() => false);
        kinds.set(c, open);
      }
      if (await open) out.push(f);
    }
    return out;
  }
}
