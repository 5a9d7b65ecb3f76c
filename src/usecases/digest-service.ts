import type { Queue } from 'bullmq';
import type { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { type BoardGroup, groupBoard } from '../domain/board';
import {
  type DigestSchedule,
  describeSchedule,
  nextRuns,
  parseDigestSchedule,
} from '../domain/digest-schedule';
import type { Feature } from '../domain/model';
import { type JobData, jobId } from '../jobs/queue';
import { digestBlocks, type LinkFor, type Rendered } from '../slack/blocks/digest-blocks';
import { OWNER_GROUPS, ownerDmBlocks } from '../slack/blocks/owner-dm-blocks';
import type { DigestSchedules } from '../store/digest-schedules';
import type { FeatureStore } from '../store/feature-store';
import type { Outcome } from './feature-service';
import type { UsageService } from './usage-service';

export interface DigestDeps {
  store: FeatureStore;
  schedules: DigestSchedules;
  queue: Queue<JobData>;
  usage: UsageService;
  now: () => DateTime;
  log: Logger;
  staleFlagDays: number;
  /** The workspace's zone (DONEDONE_TIMEZONE): the date of a digest whose channel has no schedule. */
  zone?: string;
  /** Time spent at most on months-used lines per digest; what is not measured by then is left out. */
  usageBudgetMs?: number;
  /** The team's calibration line for a channel's digest, once a month (learning-service); null otherwise. */
  monthlyLine?: (team: string, channel: string, slot: string, now: DateTime) => Promise<string | null>;
}

/** The job that posts a channel's digest: from a channel's scheduler, or once for `/donedone digest`. */
export interface DigestJob {
  team: string;
  channel: string;
  /** For a digest asked for now: when it was asked (ms); scheduled digests take their slot from BullMQ. */
  requestedAt?: number;
  [key: string]: string | number | boolean | undefined;
}

/** DMs every owner of a workspace whose features need them, once per ISO week. */
export interface OwnerDigestJob {
  team: string;
  /** ISO week, e.g. `2026-W45`. */
  week: string;
  [key: string]: string | number | boolean | undefined;
}

/**
 * The link to a feature's thread. Slack clients open `archives/<channel>/p<ts without dot>`; a card that is
 * itself a reply (shortcut, planning message) needs its thread named too. No Web API call: a digest of a
 * thousand features cannot afford a chat.getPermalink each.
 */
export const linkFor: LinkFor = (f: Feature) => {
  if (!f.channel || !f.cardTs || !/^[A-Z0-9]+$/i.test(f.channel)) return undefined;
  const base = `https://slack.com/archives/${f.channel}/p${f.cardTs.replace('.', '')}`;
  return f.parentTs && f.parentTs !== f.cardTs ? `${base}?thread_ts=${f.parentTs}&cid=${f.channel}` : base;
};

/** A channel's digest scheduler: deterministic, so upserting it again never makes a second one. */
export function digestSchedulerId(team: string, channel: string): string {
  return jobId('digest', team, channel);
}

/** The ISO week of `at` (`2026-W45`): owner DMs go at most once in it. */
export function isoWeek(at: DateTime): string {
  return at.toFormat("kkkk-'W'WW");
}

/**
 * Digests, owner DMs and their schedules, independent of Slack's wire: the command handlers, the App Home and
 * the job processors call these.
 */
export class DigestService {
  constructor(private readonly deps: DigestDeps) {}

  now(): DateTime {
    return this.deps.now();
  }

  /** The board of a workspace in the digest's groups. */
  async groups(
    team: string,
    now = this.deps.now(),
    only?: (features: Feature[]) => Promise<Feature[]>,
  ): Promise<{ features: Feature[]; groups: BoardGroup[] }> {
    const all = await this.deps.store.list(team);
    // `only`: who will read it may not see every feature (private channels).
    const features = only ? await only(all) : all;
    return { features, groups: groupBoard(features, now, { staleFlagDays: this.deps.staleFlagDays }) };
  }

  /**
   * Months-used lines for the features that show them: launched over a month ago and on the board. Bounded by
   * `usageBudgetMs`, so a slow telemetry API delays a digest a little, never much.
   */
  async usageLines(
    groups: readonly BoardGroup[],
    now: DateTime,
    budgetMs?: number,
  ): Promise<Map<string, string>> {
    const monthAgo = now.minus({ months: 1 });
    const seen = new Set<string>();
    const wanted: Feature[] = [];
    for (const g of groups) {
      if (g.key === 'retro due' || g.key === 'stale flags') continue;
      for (const e of g.entries) {
        if (!e.launchedAt || e.launchedAt > monthAgo || seen.has(e.feature.id)) continue;
        seen.add(e.feature.id);
        wanted.push(e.feature);
      }
    }
    if (wanted.length === 0) return new Map();
    return this.deps.usage.usageFor(wanted, now, { budgetMs: budgetMs ?? this.deps.usageBudgetMs ?? 10_000 });
  }

  /**
   * The digest of a workspace's board, as of `now` (in the zone its date is shown in). Posted in a
   * channel (`post`), the first digest of a month there also shows the team's calibration. `only`:
   * the features that may be shown there (private channels' stay in their channel).
   */
  async build(
    team: string,
    now = this.deps.now(),
    post?: { channel: string; slot: string },
    only?: (features: Feature[]) => Promise<Feature[]>,
  ): Promise<Rendered> {
    const { groups } = await this.groups(team, now, only);
    const usage = await this.usageLines(groups, now);
    const calibration =
      post && this.deps.monthlyLine
        ? await this.deps.monthlyLine(team, post.channel, post.slot, now).catch(() => null)
        : null;
    return digestBlocks({ groups, now, linkFor, usage, calibration });
  }

  /** Each owner's DM of what needs them; owners with nothing to do are left out. */
  async ownerDms(team: string, now = this.deps.now()): Promise<{ ownerId: string; message: Rendered }[]> {
    const { groups } = await this.groups(team, now);
    const owners = new Set<string>();
    for (const g of groups) {
      if (!OWNER_GROUPS.includes(g.key)) continue;
      for (const e of g.entries) owners.add(e.feature.ownerId);
    }
    const out: { ownerId: string; message: Rendered }[] = [];
    for (const ownerId of [...owners].sort()) {
      const message = ownerDmBlocks({ ownerId, groups, now, linkFor });
      if (message) out.push({ ownerId, message });
    }
    return out;
  }

  /** Queues the channel's digest to be posted now (by a worker, keeping to one post a second per channel). */
  async postNow(team: string, channel: string): Promise<void> {
    const requestedAt = Date.now();
    const data: DigestJob = { team, channel, requestedAt };
    await this.deps.queue.add('digest', data as JobData, {
      jobId: jobId('digest-now', team, channel, requestedAt),
    });
  }

  /**
   * Schedules the channel's digest from `every <weekday|day> HH:MM [Area/City]`. The BullMQ job scheduler has a
   * deterministic id, so asking again (or a restart) replaces the schedule, never adds a second one; its cron
   * pattern runs in the schedule's zone, so 09:00 stays 09:00 local across daylight-saving changes.
   */
  async schedule(
    team: string,
    channel: string,
    spec: string,
    opts: { userId: string; defaultZone: string },
  ): Promise<Outcome<{ schedule: DigestSchedule; description: string; next?: DateTime }>> {
    const parsed = parseDigestSchedule(spec, opts.defaultZone);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const { schedule, cron } = parsed;
    const data: DigestJob = { team, channel };
    await this.deps.queue.upsertJobScheduler(
      digestSchedulerId(team, channel),
      { pattern: cron, tz: schedule.tz },
      { name: 'digest', data: data as JobData },
    );
    await this.deps.schedules.set(team, channel, {
      schedule,
      cron,
      setBy: opts.userId,
      setAt: this.deps.now().toUTC().toISO()!,
    });
    const next = nextRuns(schedule, this.deps.now(), 1)[0];
    return {
      ok: true,
      value: { schedule, description: describeSchedule(schedule), ...(next ? { next } : {}) },
    };
  }

  /** Stops the channel's digest; false when none was scheduled. */
  async unschedule(team: string, channel: string): Promise<boolean> {
    const removed = await this.deps.queue.removeJobScheduler(digestSchedulerId(team, channel));
    const cleared = await this.deps.schedules.clear(team, channel);
    return removed || cleared;
  }

  /** The channel's schedule and its next run (by the bot's clock), or null when it has none. */
  async current(
    team: string,
    channel: string,
  ): Promise<{ schedule: DigestSchedule; description: string; next?: DateTime } | null> {
    const stored = await this.deps.schedules.get(team, channel);
    if (!stored) return null;
    const next = nextRuns(stored.schedule, this.deps.now(), 1)[0];
    return {
      schedule: stored.schedule,
      description: describeSchedule(stored.schedule),
      ...(next ? { next } : {}),
    };
  }

  /**
   * The zone a channel's digest is dated in: its schedule's own zone, else the workspace's
   * (PRODUCT.md: dates in the workspace's zone; a channel digest in its own).
   */
  async zoneFor(team: string, channel: string): Promise<string> {
    const stored = await this.deps.schedules.get(team, channel);
    return stored?.schedule.tz ?? this.deps.zone ?? 'UTC';
  }

  /** Whether the channel still has a schedule (a scheduled job that outlived `digest off` posts nothing). */
  async isScheduled(team: string, channel: string): Promise<boolean> {
    return (await this.deps.schedules.get(team, channel)) !== null;
  }

  /** Queues this week's owner DMs of a workspace once; later digests in the same week add nothing. */
  async queueOwnerDms(team: string, now = this.deps.now()): Promise<void> {
    const week = isoWeek(now.toUTC());
    const data: OwnerDigestJob = { team, week };
    await this.deps.queue.add('owner-digest', data as JobData, { jobId: jobId('owner-digest', team, week) });
  }
}
