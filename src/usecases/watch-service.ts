import type { Queue } from 'bullmq';
import { DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import { launchBeforeProposal } from '../domain/launch-date';
import type { Check, Feature } from '../domain/model';
import { checkpoints, firstUse, parseLaunchAt, planCatchUp } from '../domain/schedule';
import type { BotMetrics } from '../http/metrics';
import type { Effects } from '../jobs/effects';
import {
  type CheckJob,
  checkJobId,
  type FeatureJob,
  firstUseSchedulerId,
  type JobData,
  jobId,
  type QueueSettings,
} from '../jobs/queue';
import { checkMessage } from '../slack/blocks/card-blocks';
import {
  dataStoppedMessage,
  doneDoneMessage,
  launchedMessage,
  ownerAlertMessage,
} from '../slack/blocks/watch-blocks';
import type { SlackPoster } from '../slack/poster';
import type { FeatureStore } from '../store/feature-store';
import type { Telemetry } from '../telemetry/telemetry';
import { TelemetryQueryError, TelemetryUnavailableError } from '../telemetry/types';
import type { FeatureService, Outcome } from './feature-service';

export interface WatchDeps {
  store: FeatureStore;
  telemetry: Telemetry;
  features: FeatureService;
  queue: Queue<JobData>;
  queueSettings: QueueSettings;
  /** Posts from jobs: a client that rejects rate-limited calls instead of sleeping. */
  poster: SlackPoster;
  effects: Effects;
  metrics: BotMetrics;
  log: Logger;
  now: () => DateTime;
}

/** Prometheus answers at most 11,000 points a series: widen the step for long searches. */
const MAX_POINTS = 10_000;

/**
 * After launch donedone watches a feature: first use, a check every week, the verdict at the
 * deadline. Scheduling is BullMQ jobs with deterministic ids; every Slack effect goes through
 * `Effects`, so retries, restarts and duplicate launches post each result once.
 */
export class WatchService {
  private readonly finalListeners: ((feature: Feature, check: Check) => Promise<void>)[] = [];

  constructor(private readonly deps: WatchDeps) {}

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
    const parsed = parseLaunchAt(atText, this.deps.now());
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
      const { firstUseAt: _f, lastVerdict: _v, ...rest } = f;
      return { ...rest, launchedAt, status: 'launched' };
    });
    if (!feature) return this.deps.features.get(team, id) as Promise<Outcome<never>>;
    if (previous.launchedAt) await this.unschedule(previous);
    await this.deps.store.clearChecks(team, id, (c) => c.kind !== 'manual');
    await this.schedule(feature);
    await this.deps.features.updateCard(feature);
    const upcoming = feature.expectation
      ? checkpoints(feature.expectation, launchedAt).filter((c) => c.at > this.deps.now()).length
      : 0;
    await this.deps.poster
      .inThread(feature, launchedMessage(feature, upcoming))
      .catch((err) =>
        this.deps.log.warn({ feature: id, err: (err as Error).message }, 'could not post the launch note'),
      );
    return { ok: true, value: { feature, changed: true } };
  }

  /** A launched feature's expectation changed: plan its checks anew. */
  async expectationChanged(previous: Feature | null, feature: Feature): Promise<void> {
    if (!feature.launchedAt) return;
    if (previous) await this.unschedule(previous);
    await this.deps.store.clearChecks(feature.team, feature.id, (c) => c.kind !== 'manual');
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

  private async unschedule(feature: Feature): Promise<void> {
    await this.deps.queue.removeJobScheduler(firstUseSchedulerId(feature.team, feature.id));
    if (!feature.expectation || !feature.launchedAt) return;
    for (const c of checkpoints(feature.expectation, feature.launchedAt)) {
      const data: CheckJob = {
        team: feature.team,
        id: feature.id,
        launchedAt: feature.launchedAt,
        expectation: feature.expectation.text,
        at: c.at.toISO()!,
        kind: c.kind,
      };
      await this.deps.queue.remove(checkJobId(data)).catch(() => 0);
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
    const plan = planCatchUp(checkpoints(feature.expectation, job.launchedAt), now);
    for (const c of plan.future) {
      const data: CheckJob = { ...job, at: c.at.toISO()!, kind: c.kind };
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
      this.deps.log.warn({ feature: job.id, err: (err as Error).message }, 'first-use search failed');
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

  /** The first-use job's work: looks over history since launch; stops watching once found. */
  async firstUseJob(job: FeatureJob): Promise<string> {
    const found = await this.findFirstUse(job);
    if (found && (await this.current(job)))
      await this.deps.queue.removeJobScheduler(firstUseSchedulerId(job.team, job.id));
    return found ? 'found' : 'not yet';
  }

  /** True when first use is known (now or before). Telemetry failures propagate: the job retries. */
  private async findFirstUse(job: FeatureJob): Promise<boolean> {
    const feature = await this.current(job);
    if (!feature?.expectation) return true;
    if (feature.firstUseAt) return true;
    const start = DateTime.fromISO(job.launchedAt, { zone: 'utc' });
    const end = this.deps.now();
    if (end <= start) return false;
    const hour = Duration.fromObject({ hours: 1 });
    const spanHours = end.diff(start).as('hours');
    const step = Duration.fromObject({ hours: Math.max(1, Math.ceil(spanHours / MAX_POINTS)) });
    let series: Awaited<ReturnType<Telemetry['series']>>;
    try {
      series = await this.deps.telemetry.series(
        feature.expectation.metric,
        step.as('hours') > 1 ? step : hour,
        start,
        end,
        step,
      );
    } catch (err) {
      this.countTelemetryError(err);
      throw err;
    }
    const at = firstUse(series.points);
    if (!at) return false;
    const updated = await this.deps.store.update(job.team, job.id, (f) =>
      f.firstUseAt || f.launchedAt !== job.launchedAt
        ? null
        : { ...f, firstUseAt: at.toISO()!, status: f.status === 'launched' ? 'in use' : f.status },
    );
    if (!updated || updated.launchedAt !== job.launchedAt) return true;
    await this.deps.effects.once(
      `first-use:${job.team}:${job.id}:${job.launchedAt}`,
      updated.channel ?? updated.ownerId,
      () => this.deps.poster.inThread(updated, doneDoneMessage(updated, at)),
    );
    await this.updateCard(updated);
    return true;
  }

  /**
   * One checkpoint: measure the window ending at `at`, store the check, post it (when asked),
   * and tell the owner about a miss, a risk or data that disappeared. `unknown` is retried by
   * BullMQ with back-off; on the last attempt it is posted as such, never as a miss.
   */
  async checkpoint(job: CheckJob, opts: { post: boolean; lastAttempt: boolean }): Promise<Check | null> {
    const feature = await this.current(job);
    if (!feature?.expectation || feature.status === 'dropped') return null;
    const at = DateTime.fromISO(job.at, { zone: 'utc' });
    const stored = await this.deps.store.checks(job.team, job.id);
    // A rerun (a post that had to wait its turn) finds its check stored: no second measurement.
    let check = stored.find((c) => c.kind === job.kind && Date.parse(c.at) === at.toMillis());
    let updated = feature;
    if (!check) {
      const measured = await this.deps.features.measure(feature, at, job.kind);
      if (measured.verdict === 'unknown') {
        this.deps.metrics.telemetryErrors.inc({ source: measured.error?.split(':')[0] ?? 'unknown' });
        if (!opts.lastAttempt)
          throw new Error(`telemetry unavailable for ${job.id} at ${job.at}: ${measured.error}`);
      }
      check = measured;
      await this.deps.store.addCheck(job.team, job.id, measured);
      this.deps.metrics.checks.inc({ verdict: measured.verdict, kind: measured.kind });
      const latest = !stored.some((c) => c.at > measured.at);
      updated =
        (await this.deps.store.update(job.team, job.id, (f) => {
          if (f.launchedAt !== job.launchedAt) return null;
          const next: Feature = latest ? { ...f, lastVerdict: measured.verdict } : { ...f };
          if (job.kind === 'final' && (measured.verdict === 'met' || measured.verdict === 'missed')) {
            if (f.status !== 'decided' && f.status !== 'dropped') next.status = measured.verdict;
          }
          return next;
        })) ?? feature;
    }
    const earlier = stored.filter((c) => c.at < check.at);
    if (!opts.post) return check;
    const key = `${job.team}:${job.id}:${job.launchedAt}:${job.at}:${job.kind}`;
    const channel = updated.channel ?? updated.ownerId;
    await this.deps.effects.once(`check:${key}`, channel, () =>
      this.deps.poster.inThread(
        updated,
        checkMessage(updated, check, this.deps.telemetry.unitOf(feature.expectation!.metric)),
      ),
    );
    await this.updateCard(updated);
    if (check.verdict === 'missed' || check.verdict === 'at risk') {
      await this.deps.effects.once(`dm:${key}`, updated.ownerId, () =>
        this.deps.poster.dm(updated.ownerId, ownerAlertMessage(updated, check)),
      );
    }
    const before = earlier[earlier.length - 1];
    if (check.verdict === 'no data' && before && before.value !== null) {
      await this.deps.effects.once(`dm-data:${key}`, updated.ownerId, () =>
        this.deps.poster.dm(updated.ownerId, dataStoppedMessage(updated, check)),
      );
    }
    if (job.kind === 'final') for (const listener of this.finalListeners) await listener(updated, check);
    return check;
  }

  /** chat.update is idempotent; it only needs to keep to the rate limits. */
  private async updateCard(feature: Feature): Promise<void> {
    if (!feature.channel || !feature.cardTs) return;
    try {
      await this.deps.poster.updateCard(feature);
    } catch (err) {
      if ((err as { code?: string }).code === 'slack_webapi_rate_limited_error') {
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
    return feature && feature.launchedAt === job.launchedAt && feature.expectation?.text === job.expectation
      ? feature
      : null;
  }

  private countTelemetryError(err: unknown): void {
    if (err instanceof TelemetryUnavailableError || err instanceof TelemetryQueryError) {
      this.deps.metrics.telemetryErrors.inc({ source: err.source });
    }
  }
}
