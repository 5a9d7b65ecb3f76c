import type { Queue } from 'bullmq';
import { DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import { launchBeforeProposal } from '../domain/launch-date';
import type { Check, Feature } from '../domain/model';
import { checkpoints, launchHourOf, parseLaunchAt, planCatchUp } from '../domain/schedule';
import { deadlineOf, isAlarming, windowDuration } from '../domain/verdict';
import type { BotMetrics } from '../http/metrics';
import type { ChannelPacing } from '../jobs/pacing';
import {
  type CheckJob,
  checkJobId,
  type FeatureJob,
  firstUseSchedulerId,
  type JobData,
  jobId,
  type QueueSettings,
} from '../jobs/queue';
import { checkMessage, type Message } from '../slack/blocks/card-blocks';
import {
  dataStoppedMessage,
  doneDoneMessage,
  launchedMessage,
  ownerAlertMessage,
  usedBeforeLaunchMessage,
  verdictPendingMessage,
} from '../slack/blocks/watch-blocks';
import type { SlackPort } from '../slack/port';
import { retryAfterMs } from '../slack/slack-failure';
import type { CheckStore } from '../store/check-store';
import type { FeatureStore } from '../store/feature-store';
import type { Telemetry } from '../telemetry/telemetry';
import { TelemetryQueryError, TelemetryUnavailableError } from '../telemetry/types';
import type { FeatureService, Outcome } from './feature-service';

export interface WatchDeps {
  store: FeatureStore;
  checks: CheckStore;
  telemetry: Telemetry;
  features: FeatureService;
  queue: Queue<JobData>;
  queueSettings: QueueSettings;
  /** Posts from jobs: a client that rejects rate-limited calls instead of sleeping. */
  poster: SlackPort;
  /** Posts of results (thread posts and DMs) wait for their channel's pacer, in order of due time. */
  pacing: ChannelPacing;
  metrics: BotMetrics;
  log: Logger;
  now: () => DateTime;
  /** The workspace's zone (DONEDONE_TIMEZONE): launch days and deadlines. */
  zone?: string;
}

/** How long after the deadline an unreachable telemetry is tried again before the verdict is given up. */
export const PENDING_FOR = Duration.fromObject({ days: 7 });
/** The longest wait between two tries of a pending verdict. */
const PENDING_MAX_DELAY_MS = 6 * 3600 * 1000;
/** The metric had data in this span before launch: first use cannot be told from it. */
const PRE_LAUNCH = Duration.fromObject({ days: 7 });
/** Searches of one first-use job, each as far as the vendor's limits allow. */
const MAX_FIRST_USE_SEARCHES = 50;

/** The n-th try of a pending final check: a delayed job of its own. */
function retryJobId(job: CheckJob, retry: number): string {
  return `${checkJobId({ ...job, retry: undefined })}__retry${retry}`;
}

/**
 * After launch donedone watches a feature: first use, a check every week, the verdict at the
 * deadline. Scheduling is BullMQ jobs with deterministic ids; every Slack effect goes through
 * `Effects`, so retries, restarts and duplicate launches post each result once.
 */
export class WatchService {
  private readonly finalListeners: ((feature: Feature, check: Check) => Promise<void>)[] = [];

  constructor(private readonly deps: WatchDeps) {}

  private get zone(): string {
    return this.deps.zone ?? 'UTC';
  }

  /** Capabilities that follow the deadline (retros) hear of each posted final check. */
  onFinal(listener: (feature: Feature, check: Check) => Promise<void>): void {
    this.finalListeners.push(listener);
  }

  /** Records a launch (today, a past date or date-time) and schedules what follows. */
  async launch(
    team: string,
    id: string,
    atText?: string,
  ): Promise<Outcome<{ feature: Feature; changed: boolean }>> {
    const parsed = parseLaunchAt(atText, this.deps.now(), this.zone);
    if (!parsed.ok)
      return { ok: false, error: `${parsed.error}\nExample: \`/donedone launch ${id} 2026-10-01\`` };
    const found = await this.deps.features.get(team, id);
    if (!found.ok) return found;
    if (found.value.status === 'dropped')
      return { ok: false, error: `${id} was dropped; it cannot be launched.` };
    const early = launchBeforeProposal(parsed.at, found.value.createdAt, id);
    if (early) return { ok: false, error: early };
    const launchedAt = parsed.at.toISO()!;
    if (found.value.launchedAt === launchedAt)
      return { ok: true, value: { feature: found.value, changed: false } };
    const previous = found.value;
    const feature = await this.deps.store.update(team, id, (f) => {
      const {
        firstUseAt: _f,
        lastVerdict: _v,
        usedBeforeLaunch: _u,
        firstUseCursor: _c,
        verdictPending: _p,
        ...rest
      } = f;
      return { ...rest, launchedAt, status: 'launched', zone: this.zone };
    });
    if (!feature) return this.deps.features.get(team, id) as Promise<Outcome<never>>;
    if (previous.launchedAt) await this.unschedule(previous);
    await this.deps.checks.clear(team, id, (c) => c.kind !== 'manual');
    await this.schedule(feature);
    await this.deps.features.updateCard(feature);
    const upcoming = feature.expectation
      ? checkpoints(feature.expectation, launchedAt, this.zone).filter((c) => c.at > this.deps.now()).length
      : 0;
    await this.deps.poster
      .inThread(feature, launchedMessage(feature, upcoming))
      .catch((err) => this.deps.log.warn({ feature: id, err }, 'could not post the launch note'));
    return { ok: true, value: { feature, changed: true } };
  }

  /** A launched feature's expectation changed: plan its checks anew. */
  async expectationChanged(previous: Feature | null, feature: Feature): Promise<void> {
    if (!feature.launchedAt) return;
    if (previous) await this.unschedule(previous);
    await this.deps.checks.clear(feature.team, feature.id, (c) => c.kind !== 'manual');
    await this.schedule(feature);
  }

  /** Queues the catch-up of a launch: first use, what is already due (in order), then the future. */
  async schedule(feature: Feature): Promise<void> {
    if (!feature.launchedAt || !feature.expectation) return;
    const data: FeatureJob = {
      team: feature.team,
      id: feature.id,
      launchedAt: feature.launchedAt,
      expectation: feature.expectation.text,
    };
    await this.deps.queue.add('catch-up', data, {
      jobId: jobId(
        'catch-up',
        feature.team,
        feature.id,
        Date.parse(feature.launchedAt),
        feature.expectation.text,
      ),
    });
  }

  /** A dropped or decided feature: every job of it stops (each also finds it so and does nothing). */
  async stop(feature: Feature): Promise<void> {
    await this.unschedule(feature);
  }

  private async unschedule(feature: Feature): Promise<void> {
    await this.deps.queue.removeJobScheduler(firstUseSchedulerId(feature.team, feature.id));
    if (!feature.expectation || !feature.launchedAt) return;
    for (const c of checkpoints(feature.expectation, feature.launchedAt, feature.zone ?? this.zone)) {
      const data: CheckJob = {
        team: feature.team,
        id: feature.id,
        launchedAt: feature.launchedAt,
        expectation: feature.expectation.text,
        at: c.at.toISO()!,
        kind: c.kind,
      };
      await this.deps.queue.remove(checkJobId(data)).catch(() => 0);
      const retry = feature.verdictPending?.retry;
      if (c.kind === 'final' && retry) await this.deps.queue.remove(retryJobId(data, retry)).catch(() => 0);
    }
  }

  /**
   * The catch-up job's work. The future is planned first (idempotent: deterministic ids), so an
   * outage during the catch-up never loses the schedule; then first use is looked for, and the
   * checks already due run in order.
   */
  async catchUp(job: FeatureJob, lastAttempt: boolean): Promise<string> {
    const feature = await this.current(job);
    if (!feature?.expectation) return 'skipped: feature changed';
    const now = this.deps.now();
    const plan = planCatchUp(
      checkpoints(feature.expectation, job.launchedAt, feature.zone ?? this.zone),
      now,
    );
    const window = windowDuration(feature.expectation.window);
    for (const c of plan.future) {
      const data: CheckJob = { ...job, at: c.at.toISO()!, kind: c.kind };
      // Listed as due then, so one query measures it with the others due then (PostHog).
      await this.deps.telemetry.due(feature.expectation.metric, window, c.at);
      await this.deps.queue.add('check', data, {
        jobId: checkJobId(data),
        delay: Math.max(0, c.at.diff(now).as('milliseconds')),
      });
    }
    let foundFirstUse = false;
    try {
      foundFirstUse = await this.findFirstUse(job);
    } catch (err) {
      // The hourly watch below tries again; an outage must not hold up the checks.
      this.deps.log.warn({ feature: job.id, err }, 'first-use search failed');
    }
    if (!foundFirstUse) {
      await this.deps.queue.upsertJobScheduler(
        firstUseSchedulerId(job.team, job.id),
        { every: this.deps.queueSettings.firstUseEveryMs },
        { name: 'first-use', data: job },
      );
    }
    for (const c of plan.due) {
      await this.checkpoint({ ...job, at: c.at.toISO()!, kind: c.kind }, { post: c.post, lastAttempt });
    }
    return `caught up: ${plan.due.length} due, ${plan.future.length} scheduled`;
  }

  /** The first-use job's work: looks forward from where the last search stopped; stops watching once found. */
  async firstUseJob(job: FeatureJob): Promise<string> {
    const feature = await this.current(job);
    if (!feature) {
      // Dropped, decided, relaunched or re-expected: this watch has nothing left to find.
      const now = await this.deps.store.get(job.team, job.id);
      if (!now || now.launchedAt !== job.launchedAt || now.status === 'dropped' || now.status === 'decided')
        await this.deps.queue.removeJobScheduler(firstUseSchedulerId(job.team, job.id));
      return 'stopped';
    }
    const found = await this.findFirstUse(job);
    if (found) await this.deps.queue.removeJobScheduler(firstUseSchedulerId(job.team, job.id));
    return found ? 'found' : 'not yet';
  }

  /**
   * Whether the metric had data in the 7 days before launch (once per launch). Then no first use
   * (and no done-done) can be told from it: the thread says so and the rate is judged from launch.
   */
  private async checkPreLaunch(job: FeatureJob, feature: Feature): Promise<boolean> {
    if (feature.usedBeforeLaunch !== undefined) return feature.usedBeforeLaunch;
    const launch = DateTime.fromISO(job.launchedAt, { zone: 'utc' });
    let before: number | null;
    try {
      before = (await this.deps.telemetry.valueOver(feature.expectation!.metric, PRE_LAUNCH, launch)).value;
    } catch (err) {
      this.countTelemetryError(err);
      throw err;
    }
    const used = before !== null && before > 0;
    // The note is queued before the answer is stored (a retry after a failure in between finds it
    // unstored and queues it again; its key keeps it once).
    if (used) {
      const noted = { ...feature, usedBeforeLaunch: used };
      await this.deps.pacing.post(
        `pre-launch:${job.team}:${job.id}:${job.launchedAt}`,
        feature.channel ?? feature.ownerId,
        launch.toMillis(),
        { kind: 'thread', team: job.team, id: job.id, message: usedBeforeLaunchMessage(noted, before!) },
      );
    }
    const updated = await this.deps.store.update(job.team, job.id, (f) =>
      f.launchedAt === job.launchedAt && f.usedBeforeLaunch === undefined
        ? { ...f, usedBeforeLaunch: used }
        : null,
    );
    if (used && updated) await this.updateCard(updated);
    return used;
  }

  /**
   * True when first use is known (now or before), or cannot be told (the metric was in use before
   * launch). Searches forward from the stored cursor, as far as each vendor's limits allow per
   * call. Telemetry failures propagate: the job retries.
   */
  private async findFirstUse(job: FeatureJob): Promise<boolean> {
    let feature = await this.current(job);
    if (!feature?.expectation) return true;
    if (feature.firstUseAt) return true;
    if (await this.checkPreLaunch(job, feature)) return true;
    const metric = feature.expectation.metric;
    const launch = DateTime.fromISO(job.launchedAt, { zone: 'utc' });
    // A few minutes short of now: the last hour may not hold its last scrape or late events yet.
    const end = this.deps.now().minus({ minutes: 5 });
    let from: DateTime = feature.firstUseCursor
      ? DateTime.fromISO(feature.firstUseCursor, { zone: 'utc' })
      : launch;
    for (let i = 0; i < MAX_FIRST_USE_SEARCHES && from < end; i++) {
      let found: Awaited<ReturnType<Telemetry['firstUseAfter']>>;
      try {
        found = await this.deps.telemetry.firstUseAfter(metric, {
          launch,
          from,
          to: end,
        });
      } catch (err) {
        this.countTelemetryError(err);
        throw err;
      }
      if (found.unsearchable) {
        this.deps.log.warn(
          { feature: job.id, from: found.unsearchable.from.toISO(), to: found.unsearchable.to.toISO() },
          'part of the first-use search is older than the telemetry keeps',
        );
      }
      if (found.at) return this.recordFirstUse(job, launchHourOf(launch, found.at));
      if (found.scannedTo <= from) break;
      from = found.scannedTo;
      const cursor = from.toUTC().toISO()!;
      feature =
        (await this.deps.store.update(job.team, job.id, (f) =>
          f.launchedAt === job.launchedAt && !f.firstUseAt ? { ...f, firstUseCursor: cursor } : null,
        )) ?? feature;
    }
    return false;
  }

  private async recordFirstUse(job: FeatureJob, at: DateTime): Promise<boolean> {
    const updated = await this.deps.store.update(job.team, job.id, (f) =>
      f.firstUseAt || f.launchedAt !== job.launchedAt || f.status === 'dropped' || f.status === 'decided'
        ? null
        : { ...f, firstUseAt: at.toUTC().toISO()!, status: f.status === 'launched' ? 'in use' : f.status },
    );
    // Recorded before (by this job's earlier try, whose post may not have been queued): the post is
    // queued again; it is kept once by its key, so a post that was queued is not doubled.
    const current = updated ?? (await this.deps.store.get(job.team, job.id));
    if (!current?.firstUseAt || current.launchedAt !== job.launchedAt || current.status === 'dropped')
      return true;
    const firstUse = DateTime.fromISO(current.firstUseAt, { zone: 'utc' });
    await this.deps.pacing.post(
      `first-use:${job.team}:${job.id}:${job.launchedAt}`,
      current.channel ?? current.ownerId,
      firstUse.toMillis(),
      { kind: 'thread', team: job.team, id: job.id, message: doneDoneMessage(current, firstUse) },
    );
    if (updated) await this.updateCard(updated);
    return true;
  }

  /**
   * `check` after the deadline of a feature whose verdict is not known yet: runs the final check
   * now (the window ending at the deadline), which settles a pending verdict.
   */
  async settle(feature: Feature): Promise<Check | null> {
    if (!this.needsSettling(feature) || !feature.expectation || !feature.launchedAt) return null;
    const deadline = deadlineOf(feature.expectation, feature.launchedAt, feature.zone ?? this.zone);
    const job: CheckJob = {
      team: feature.team,
      id: feature.id,
      launchedAt: feature.launchedAt,
      expectation: feature.expectation.text,
      at: deadline.toISO()!,
      kind: 'final',
    };
    // Asked by a person: the post is queued for the channel's pacer like any other.
    return this.checkpoint(job, { post: true, lastAttempt: true, manual: true });
  }

  /** Whether the deadline has passed without a verdict (pending, or the final check never ran). */
  needsSettling(feature: Feature): boolean {
    if (!feature.expectation || !feature.launchedAt) return false;
    if (feature.status === 'dropped' || feature.status === 'decided') return false;
    if (feature.status === 'met' || feature.status === 'missed') return false;
    const deadline = deadlineOf(feature.expectation, feature.launchedAt, feature.zone ?? this.zone);
    return this.deps.now() >= deadline;
  }

  /**
   * One checkpoint: measure the window ending at `at`, store the check, post it (when asked),
   * and tell the owner about a miss, a risk or data that disappeared. An intermediate `unknown`
   * is retried by BullMQ with back-off and, on the last attempt, posted as such, never as a miss.
   * At the deadline an unreachable telemetry makes the verdict *pending*: a delayed job tries
   * again with back-off for up to 7 days; `check` settles it earlier.
   */
  async checkpoint(
    job: CheckJob,
    opts: { post: boolean; lastAttempt: boolean; manual?: boolean },
  ): Promise<Check | null> {
    // Read together (one round trip): most checkpoints find their feature current.
    const [feature, stored] = await Promise.all([this.current(job), this.deps.checks.list(job.team, job.id)]);
    if (!feature?.expectation) return null;
    const at = DateTime.fromISO(job.at, { zone: 'utc' });
    // A rerun (a post that had to wait its turn) finds its check stored: no second measurement.
    let check = stored.find(
      (c) =>
        c.kind === job.kind &&
        Date.parse(c.at) === at.toMillis() &&
        (c.expectation ?? job.expectation) === job.expectation &&
        c.verdict !== 'unknown',
    );
    let updated = feature;
    if (!check) {
      const measured = await this.deps.features.measure(feature, at, job.kind, stored);
      if (measured.verdict === 'unknown') {
        this.deps.metrics.telemetryErrors.inc({ source: measured.error?.split(':')[0] ?? 'unknown' });
        if (job.kind === 'final') {
          const outcome = await this.pending(job, feature, measured, opts.manual === true);
          if (outcome !== 'given up') return measured;
        } else if (!opts.lastAttempt) {
          throw new Error(`telemetry unavailable for ${job.id} at ${job.at}: ${measured.error}`);
        }
      }
      check = measured;
      const latest = !stored.some(
        (c) => c.at > measured.at && (c.expectation ?? job.expectation) === job.expectation,
      );
      // The check and the feature's last verdict are written together; a retry after a failure of
      // either finds the check stored and writes the verdict again (it is the same). A final check
      // goes first: the status it moves renews the owner's calibration (learning-service), and
      // whoever reads the new calibration must find the check that gives its number.
      if (job.kind === 'final') await this.deps.checks.add(job.team, job.id, measured);
      const [, written] = await Promise.all([
        job.kind === 'final' ? null : this.deps.checks.add(job.team, job.id, measured),
        this.deps.store.update(job.team, job.id, (f) => {
          if (f.launchedAt !== job.launchedAt) return null;
          const next: Feature = latest ? { ...f, lastVerdict: measured.verdict } : { ...f };
          if (job.kind === 'final') {
            delete next.verdictPending;
            if (measured.verdict === 'met' || measured.verdict === 'missed') next.status = measured.verdict;
          }
          return next;
        }),
      ]);
      this.deps.metrics.checks.inc({ verdict: measured.verdict, kind: measured.kind });
      updated = written ?? feature;
    }
    const earlier = stored.filter((c) => c.at < check.at && c.verdict !== 'unknown');
    if (!opts.post) return check;
    const key = `${job.team}:${job.id}:${job.launchedAt}:${job.at}:${job.kind}`;
    const channel = updated.channel ?? updated.ownerId;
    // Queued for the channel's pacer, in order of due time; this job is done with it.
    const due = at.toMillis();
    const thread = (message: Message) => ({ kind: 'thread' as const, team: job.team, id: job.id, message });
    const dm = (message: Message) => ({
      kind: 'dm' as const,
      team: job.team,
      user: updated.ownerId,
      message,
    });
    // The thread post, the card and the owner's DMs do not depend on each other: queued and
    // updated together (each is once by its key; a retried job redoes only what is missing).
    const before = earlier[earlier.length - 1];
    const measuredCheck = check;
    await Promise.all([
      this.deps.pacing.post(
        `check:${key}`,
        channel,
        due,
        thread(checkMessage(updated, measuredCheck, this.deps.telemetry.unitOf(feature.expectation!.metric))),
      ),
      this.updateCard(updated),
      isAlarming(measuredCheck.verdict)
        ? this.deps.pacing.post(
            `dm:${key}`,
            updated.ownerId,
            due,
            dm(ownerAlertMessage(updated, measuredCheck)),
          )
        : null,
      measuredCheck.verdict === 'no data' && before && before.value !== null
        ? this.deps.pacing.post(
            `dm-data:${key}`,
            updated.ownerId,
            due,
            dm(dataStoppedMessage(updated, measuredCheck)),
          )
        : null,
    ]);
    if (job.kind === 'final') for (const listener of this.finalListeners) await listener(updated, check);
    return check;
  }

  /**
   * The telemetry could not be reached for the final check: the verdict is pending. The first
   * time, the thread and the card say so; a delayed job tries again (doubling, at most every 6 h)
   * until 7 days after the deadline, when the verdict is given up as never measured.
   */
  private async pending(
    job: CheckJob,
    feature: Feature,
    measured: Check,
    manual: boolean,
  ): Promise<'pending' | 'given up'> {
    const now = this.deps.now();
    // Seven days from the deadline, or from the first try when the launch was recorded late.
    const deadline = DateTime.fromISO(job.at, { zone: 'utc' });
    const until = feature.verdictPending
      ? DateTime.fromISO(feature.verdictPending.until, { zone: 'utc' })
      : DateTime.max(deadline, now).plus(PENDING_FOR);
    if (now >= until) return 'given up';
    let marked = feature;
    if (!feature.verdictPending) {
      const pendingSince = { since: now.toUTC().toISO()!, until: until.toISO()! };
      marked =
        (await this.deps.store.update(job.team, job.id, (f) =>
          f.launchedAt === job.launchedAt && !f.verdictPending
            ? { ...f, verdictPending: pendingSince }
            : null,
        )) ?? feature;
      await this.updateCard(marked);
    }
    // Keyed, so a rerun (a retry of the pending verdict) posts it once.
    await this.deps.pacing.post(
      `pending:${job.team}:${job.id}:${job.launchedAt}:${job.expectation}`,
      marked.channel ?? marked.ownerId,
      deadline.toMillis(),
      {
        kind: 'thread',
        team: job.team,
        id: job.id,
        message: verdictPendingMessage(marked, measured, until, this.zoneOf(marked)),
      },
    );
    if (manual) return 'pending';
    const retry = (job.retry ?? 0) + 1;
    const delay = Math.min(
      this.deps.queueSettings.backoffMs * 2 ** (retry - 1),
      PENDING_MAX_DELAY_MS,
      Math.max(0, until.diff(now).as('milliseconds')),
    );
    const next: CheckJob = { ...job, retry };
    await this.deps.queue.add('check', next, { jobId: retryJobId(job, retry), delay });
    // Remembered, so stopping the feature removes exactly this delayed try.
    await this.deps.store.update(job.team, job.id, (f) =>
      f.verdictPending && f.launchedAt === job.launchedAt
        ? { ...f, verdictPending: { ...f.verdictPending, retry } }
        : null,
    );
    return 'pending';
  }

  private zoneOf(feature: Feature): string {
    return feature.zone ?? this.zone;
  }

  /** chat.update is idempotent; it only needs to keep to the rate limits. */
  private async updateCard(feature: Feature): Promise<void> {
    if (!feature.channel || !feature.cardTs) return;
    try {
      await this.deps.poster.updateCard(feature);
    } catch (err) {
      if (retryAfterMs(err) !== null) {
        this.deps.log.warn(
          { feature: feature.id },
          'card update rate limited; the next update will catch up',
        );
        return;
      }
      throw err;
    }
  }

  private async current(job: FeatureJob): Promise<Feature | null> {
    const feature = await this.deps.store.get(job.team, job.id);
    // A relaunch on another date, or a new expectation, supersedes this job: its successor has its own ids.
    if (!feature || feature.status === 'dropped' || feature.status === 'decided') return null;
    return feature.launchedAt === job.launchedAt && feature.expectation?.text === job.expectation
      ? feature
      : null;
  }

  private countTelemetryError(err: unknown): void {
    if (err instanceof TelemetryUnavailableError || err instanceof TelemetryQueryError) {
      this.deps.metrics.telemetryErrors.inc({ source: err.source });
    }
  }
}
