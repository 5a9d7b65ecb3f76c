import type { Queue } from 'bullmq';
import type { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { jobId } from '../jobs/queue';
import { teamKey } from '../store/keys';
import { type RedisClient, scanKeys } from '../store/redis-connection';
import type { ApiTokens } from './api-tokens';
import type { AuthorizeSource, RedisInstallationStore } from './installation-store';

/** The daily job scheduler that deletes what uninstalled workspaces left behind. */
export const RETENTION_SCHEDULER_ID = 'workspace-retention';
export const RETENTION_JOB = 'workspace-retention';

/** Schedulers that belong to one workspace (digests, first-use polls), by their id's start. */
function ownSchedulers(team: string): string[] {
  return [`${jobId('digest', team)}__`, `${jobId('first-use', team)}__`];
}

/**
 * What happens to a workspace when it leaves (PRODUCT.md "Many workspaces"): `app_uninstalled`
 * and `tokens_revoked` delete its tokens and stop its schedules; its features are kept for
 * DONEDONE_RETENTION_DAYS, then deleted by a daily job, or at once by `forget-workspace`.
 */
export class WorkspaceLifecycle {
  constructor(
    private readonly deps: {
      redis: RedisClient;
      prefix: string;
      queue: Queue;
      /** Absent in single-workspace mode: nothing is installed, only forgetting applies. */
      installations?: RedisInstallationStore;
      apiTokens?: ApiTokens;
      retentionDays: number;
      now: () => DateTime;
      log: Logger;
    },
  ) {}

  /** The installation is gone: tokens deleted, schedules stopped, features kept for retention. */
  async uninstalled(ref: AuthorizeSource, why: string): Promise<string[]> {
    const teams = (await this.deps.installations?.uninstall(ref)) ?? [];
    for (const team of teams) await this.stopSchedules(team);
    this.deps.log.info({ teams, why, retentionDays: this.deps.retentionDays }, 'workspace uninstalled');
    return teams;
  }

  /** Removes the workspace's job schedulers; returns how many. */
  async stopSchedules(team: string): Promise<number> {
    const starts = ownSchedulers(team);
    let removed = 0;
    // Job schedulers are few (one per scheduled digest and launched feature): a page of 1000 at a time.
    for (let start = 0; ; start += 1000) {
      const page = await this.deps.queue.getJobSchedulers(start, start + 999, true);
      const mine = page.filter((s) => {
        const key = String(s.key ?? s.id ?? '');
        return starts.some((p) => key.startsWith(p));
      });
      for (const s of mine) {
        if (await this.deps.queue.removeJobScheduler(String(s.key ?? s.id))) removed++;
      }
      if (page.length < 1000) break;
    }
    // The schedules' records go too, so `digest schedule` does not name a digest that will not come.
    // On every master of a cluster; the keys share the workspace's slot, so one UNLINK takes them.
    const found = await scanKeys(this.deps.redis, teamKey(this.deps.prefix, team, 'digest', '*'));
    for (let i = 0; i < found.length; i += 500) await this.deps.redis.unlink(...found.slice(i, i + 500));
    return removed;
  }

  /**
   * Deletes everything donedone keeps about a workspace: features, checks, notes, audit trail,
   * digest schedules, API tokens, its schedulers and its uninstall record. Returns the number of
   * keys deleted. The installation itself is left to Slack's uninstall.
   */
  async forget(team: string): Promise<{ keys: number; schedulers: number; apiTokens: number }> {
    const { redis, prefix } = this.deps;
    const schedulers = await this.stopSchedules(team);
    const apiTokens = (await this.deps.apiTokens?.revokeAll(team)) ?? 0;
    let keys = 0;
    const found = await scanKeys(redis, teamKey(prefix, team, '*'));
    for (let i = 0; i < found.length; i += 500) keys += await redis.unlink(...found.slice(i, i + 500));
    await redis.srem(`${prefix}teams`, team);
    await this.deps.installations?.forgetTeam(team);
    this.deps.log.info({ team, keys, schedulers, apiTokens }, 'workspace forgotten: its data is deleted');
    return { keys, schedulers, apiTokens };
  }

  /** Forgets every workspace uninstalled more than DONEDONE_RETENTION_DAYS ago (the daily job). */
  async sweep(): Promise<string[]> {
    const cutoff = this.deps.now().minus({ days: this.deps.retentionDays }).toMillis();
    const teams = (await this.deps.installations?.uninstalledBefore(cutoff)) ?? [];
    for (const team of teams) await this.forget(team);
    return teams;
  }

  /** The daily sweep as a BullMQ job scheduler: one however many processes start. */
  async schedule(): Promise<void> {
    await this.deps.queue.upsertJobScheduler(
      RETENTION_SCHEDULER_ID,
      { every: 24 * 3600 * 1000 },
      { name: RETENTION_JOB, data: {} },
    );
  }
}
