import type { Queue } from 'bullmq';
import { DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import { type ChartSpec, chartAltText, renderChartPng } from '../charts/render-chart';
import { formatNumber } from '../domain/format-number';
import type { Check, Decision, Feature, MetricRef, Retro } from '../domain/model';
import { formatMetric } from '../domain/parse-expectation';
import { deadlineOf, windowDuration } from '../domain/verdict';
import { type Effects, RetryLater } from '../jobs/effects';
import { firstUseSchedulerId, type JobData, jobId } from '../jobs/queue';
import {
  chartUnavailableMessage,
  flagRemovalMessage,
  type RetroView,
  reminderDm,
  reminderMessage,
  retroMessage,
  retroViewOf,
} from '../slack/blocks/retro-blocks';
import type { SlackPort } from '../slack/port';
import type { FeatureStore } from '../store/feature-store';
import type { Telemetry } from '../telemetry/telemetry';
import { TelemetryQueryError } from '../telemetry/types';
import type { FeatureService, Outcome } from './feature-service';
import type { UsageService } from './usage-service';

/** How long a retro waits for a decision before the one reminder. */
export const REMINDER_AFTER = Duration.fromObject({ days: 7 });
/** Prometheus answers at most 11,000 points; a retro chart needs a few hundred at most. */
const MAX_CHART_POINTS = 500;

export interface RetroJob {
  team: string;
  id: string;
  launchedAt: string;
  cycle: number;
}

export interface ReminderJob {
  team: string;
  id: string;
  cycle: number;
  ts: string;
}

export interface RetroDeps {
  store: FeatureStore;
  telemetry: Telemetry;
  features: FeatureService;
  usage: UsageService;
  queue: Queue<JobData>;
  effects: Effects;
  /** Posts from jobs: fails fast on 429, so `Effects` turns it into a delayed job. */
  jobSlack: SlackPort;
  /** Answers to clicks (chat.update, the flag request), from listeners. */
  slack: SlackPort;
  log: Logger;
  now: () => DateTime;
}

/** 1 for a feature's first cycle; each Iterate moves a cycle into `history` and starts the next. */
export function cycleOf(feature: Feature): number {
  return (feature.history?.length ?? 0) + 1;
}

function metricName(metric: MetricRef): string {
  return metric.source === 'prometheus' || metric.source === 'catalog' ? metric.name : metric.event;
}

/**
 * The chart of a retro: the metric over its window, one value per day (or per wider step for long
 * cycles) from launch to the retro, the target as a line, launch and deadline marked. Percentages
 * are stored as ratios and drawn as percentages.
 */
export function retroChartSpec(
  feature: Feature & { expectation: NonNullable<Feature['expectation']> },
  retro: Pick<Retro, 'launchedAt'>,
  points: { at: DateTime; value: number }[],
  unitName?: string,
): ChartSpec {
  const e = feature.expectation;
  const scale = e.unit === '%' ? 100 : 1;
  const launch = DateTime.fromISO(retro.launchedAt, { zone: 'utc' });
  return {
    title: `${feature.id} · ${formatMetric(e.metric)} per ${e.window} since launch`,
    unit: e.unit === '%' ? '%' : `${unitName ?? metricName(e.metric)} / ${e.window}`,
    series: [
      { name: formatMetric(e.metric), points: points.map((p) => ({ at: p.at, value: p.value * scale })) },
    ],
    target: { value: e.target * scale, label: `target ${e.op} ${formatNumber(e.target, e.unit)}` },
    markers: [
      { at: launch, label: 'launch' },
      { at: deadlineOf(e, retro.launchedAt), label: 'deadline' },
    ],
    width: 1200,
    height: 600,
  };
}

/**
 * Retrospectives (PRODUCT.md): at a cycle's deadline, or earlier on request, a message in the
 * feature's channel with expected vs actual and months used, a chart in its thread, and buttons for a
 * decision. Opening runs as a job with exactly-once effects; decisions and notes come from listeners.
 */
export class RetroService {
  constructor(private readonly deps: RetroDeps) {}

  /** Queues the opening of the current cycle's retro (once per cycle and launch for the deadline). */
  async requestOpen(feature: Feature, reason: 'deadline' | 'command'): Promise<boolean> {
    if (!feature.launchedAt || !feature.expectation || feature.status === 'dropped') return false;
    if (feature.retro) return false;
    const data: RetroJob = {
      team: feature.team,
      id: feature.id,
      launchedAt: feature.launchedAt,
      cycle: cycleOf(feature),
    };
    const parts: (string | number)[] = ['retro', data.team, data.id, data.cycle, Date.parse(data.launchedAt)];
    // A command may ask again after a failure; the effects below still post once per cycle.
    if (reason === 'command') parts.push('cmd', this.deps.now().toMillis());
    await this.deps.queue.add('retro', data as unknown as JobData, { jobId: jobId(...parts) });
    return true;
  }

  /** `/donedone retro F-3`: opens it now, or points at the one already open. */
  async requestFromCommand(team: string, id: string): Promise<Outcome<string>> {
    const found = await this.deps.features.get(team, id);
    if (!found.ok) return found;
    const feature = found.value;
    if (feature.status === 'dropped') return { ok: false, error: `${id} was dropped; it has no retro.` };
    if (!feature.expectation) {
      return {
        ok: false,
        error: `${id} has no expectation, so there is nothing to compare in a retro. Add one: \`/donedone expect ${id} bulk_export_total >= 200 per week\``,
      };
    }
    if (!feature.launchedAt) {
      return {
        ok: false,
        error: `${id} has not launched, so there is no actual to compare yet. When it ships: \`/donedone launch ${id} 2026-10-01\``,
      };
    }
    if (feature.retro) {
      const link = await this.permalink(feature.team, feature.retro);
      return {
        ok: true,
        value: `${id}'s retro is already open: ${link ?? `in <#${feature.retro.channel}>`}`,
      };
    }
    await this.requestOpen(feature, 'command');
    return {
      ok: true,
      value: `Opening ${id}'s retrospective in <#${feature.channel ?? feature.ownerId}>: expected vs actual, a chart, and a decision.`,
    };
  }

  /** The `retro` job: posts the retro message, then the chart in its thread, and plans the reminder. */
  async openJob(job: RetroJob, lastAttempt: boolean): Promise<string> {
    let feature = await this.deps.store.get(job.team, job.id);
    if (!feature?.expectation || !feature.launchedAt || feature.status === 'dropped') return 'skipped';
    if (cycleOf(feature) !== job.cycle || feature.launchedAt !== job.launchedAt) return 'skipped: superseded';
    if (!feature.retro) {
      const facts = await this.facts(feature, lastAttempt);
      const channel = feature.channel ?? feature.ownerId;
      const current = feature;
      await this.deps.effects.once(`retro:${job.team}:${job.id}:${job.cycle}`, channel, async () => {
        const draft: Retro = {
          channel,
          ts: '',
          openedAt: this.deps.now().toUTC().toISO()!,
          cycle: job.cycle,
          launchedAt: job.launchedAt,
          ...facts,
        };
        const message = retroMessage(retroViewOf({ ...current, retro: draft })!);
        const posted = await this.deps.jobSlack.post(job.team, channel, message);
        const retro: Retro = { ...draft, channel: posted.channel, ts: posted.ts };
        await this.deps.store.indexRetro(job.team, retro.channel, retro.ts, job.id);
        await this.deps.store.update(job.team, job.id, (f) =>
          cycleOf(f) === job.cycle && !f.retro ? { ...f, retro } : null,
        );
      });
      feature = await this.deps.store.get(job.team, job.id);
    }
    const retro = feature?.retro;
    if (!feature || !retro || retro.cycle !== job.cycle) return 'skipped: no retro';
    await this.scheduleReminder(feature, retro);
    const opened = feature;
    await this.deps.effects.once(`retro-chart:${job.team}:${job.id}:${job.cycle}`, retro.channel, () =>
      this.postChart(opened, retro, lastAttempt),
    );
    return `opened cycle ${job.cycle}`;
  }

  /** Expected vs actual (the final check when there is one, else measured now) and months used. */
  private async facts(feature: Feature, lastAttempt: boolean): Promise<Pick<Retro, 'actual' | 'monthsUsed'>> {
    const now = this.deps.now();
    const checks = (await this.deps.store.checks(feature.team, feature.id)).filter(
      (c) => c.at >= feature.launchedAt!,
    );
    let check: Check | undefined = [...checks].reverse().find((c) => c.kind === 'final');
    if (!check) {
      check = await this.deps.features.measure(feature, now, 'manual');
      if (check.verdict === 'unknown' && !lastAttempt)
        throw new Error(`telemetry unavailable for the retro of ${feature.id}: ${check.error}`);
    }
    const usage = await this.deps.usage.monthsUsedFor(feature, now);
    return {
      actual: { value: check.value, verdict: check.verdict, at: check.at },
      ...(usage.ok
        ? {
            monthsUsed: {
              count: usage.value.usedCount,
              strip: usage.value.strip,
              initials: usage.value.initials,
            },
          }
        : {}),
    };
  }

  /** The chart since launch, uploaded into the retro's thread with files.uploadV2 and alt text. */
  private async postChart(feature: Feature, retro: Retro, lastAttempt: boolean): Promise<void> {
    const e = feature.expectation!;
    const start = DateTime.fromISO(retro.launchedAt, { zone: 'utc' });
    let end = DateTime.fromISO(retro.openedAt, { zone: 'utc' });
    if (end.diff(start).as('days') < 1) end = start.plus({ days: 1 });
    const days = Math.max(1, Math.ceil(end.diff(start).as('days') / MAX_CHART_POINTS));
    let spec: ChartSpec;
    try {
      const series = await this.deps.telemetry.series(
        e.metric,
        windowDuration(e.window),
        start,
        end,
        Duration.fromObject({ days }),
      );
      spec = retroChartSpec(
        { ...feature, expectation: e },
        retro,
        series.points,
        this.deps.telemetry.unitOf(e.metric),
      );
    } catch (err) {
      // A query the API refuses will not get better; anything else is retried until the last attempt.
      if (!lastAttempt && !(err instanceof TelemetryQueryError)) throw err;
      const message = chartUnavailableMessage(retroViewOf(feature)!, (err as Error).message);
      await this.deps.jobSlack.post(feature.team, retro.channel, message, retro.ts);
      return;
    }
    await this.deps.jobSlack.upload(feature.team, {
      channel: retro.channel,
      threadTs: retro.ts,
      file: await renderChartPng(spec),
      filename: `${feature.id}-retro-cycle-${retro.cycle}.png`,
      title: spec.title,
      altText: chartAltText(spec),
    });
  }

  private async scheduleReminder(feature: Feature, retro: Retro): Promise<void> {
    const at = DateTime.fromISO(retro.openedAt, { zone: 'utc' }).plus(REMINDER_AFTER);
    const data: ReminderJob = { team: feature.team, id: feature.id, cycle: retro.cycle, ts: retro.ts };
    await this.deps.queue.add('retro-reminder', data as unknown as JobData, {
      jobId: jobId('retro-reminder', feature.team, feature.id, retro.cycle, retro.ts),
      delay: Math.max(0, at.diff(this.deps.now()).as('milliseconds')),
    });
  }

  /** The `retro-reminder` job: a week on and still undecided, one reminder in the thread and one DM. */
  async reminderJob(job: ReminderJob): Promise<string> {
    const feature = await this.deps.store.get(job.team, job.id);
    const retro = feature?.retro;
    if (!feature || !retro || retro.cycle !== job.cycle || retro.ts !== job.ts) return 'skipped: superseded';
    if (feature.decision) return 'skipped: decided';
    if (feature.status === 'dropped') return 'skipped: dropped';
    const due = DateTime.fromISO(retro.openedAt, { zone: 'utc' }).plus(REMINDER_AFTER);
    const wait = due.diff(this.deps.now()).as('milliseconds');
    if (wait > 0) throw new RetryLater(wait, `the retro of ${job.id} is not a week old yet`);
    const view = retroViewOf(feature)!;
    const key = `${job.team}:${job.id}:${job.cycle}`;
    await this.deps.effects.once(`retro-remind:${key}`, retro.channel, async () => {
      await this.deps.jobSlack.post(job.team, retro.channel, reminderMessage(view), retro.ts);
    });
    await this.deps.effects.once(`retro-remind-dm:${key}`, feature.ownerId, async () => {
      const message = reminderDm(view, await this.permalink(feature.team, retro));
      await this.deps.jobSlack.dm(job.team, feature.ownerId, message);
    });
    return 'reminded';
  }

  /**
   * A click on Keep, Iterate or Remove in the retro message `ts`. Anyone in the channel may take the
   * first decision; once taken, only the owner can change it. Iterate moves the cycle to `history` and
   * leaves the feature `measurable` with its old expectation, to be replaced in the modal that follows.
   */
  async decide(
    team: string,
    id: string,
    value: Decision,
    userId: string,
    ts: string,
    /** Whether `userId` may change `id` (owner, proposer, admin); unknown: only the owner may change a decision. */
    mayChange?: boolean,
  ): Promise<Outcome<{ feature: Feature; view: RetroView; unchanged?: boolean }>> {
    const changer = (f: Feature) => mayChange ?? userId === f.ownerId;
    const found = await this.deps.features.get(team, id);
    if (!found.ok) return found;
    const before = found.value;
    if (!before.retro || before.retro.ts !== ts) {
      return {
        ok: false,
        error: `This retro belongs to an earlier cycle of ${id}, decided already; ${id} has moved on. \`/donedone show ${id}\` shows where it is.`,
      };
    }
    if (before.decision && !changer(before)) {
      return {
        ok: false,
        error: `${id} was decided (${before.decision.value}) by <@${before.decision.by}>; only its owner <@${before.ownerId}> can change the decision.`,
      };
    }
    const decision = { value, by: userId, at: this.deps.now().toUTC().toISO()! };
    if (before.decision?.value === value) {
      return { ok: true, value: { feature: before, view: retroViewOf(before)!, unchanged: true } };
    }
    const updated = await this.deps.store.update(team, id, (f) => {
      if (!f.retro || f.retro.ts !== ts) return null;
      if (f.decision && !changer(f)) return null;
      const retro: Retro = f.decision ? { ...f.retro, previousDecision: f.decision } : f.retro;
      if (value !== 'iterate') return { ...f, decision, retro, status: 'decided' };
      const {
        launchedAt,
        firstUseAt,
        lastVerdict,
        decision: _d,
        retro: _r,
        usedBeforeLaunch: _u,
        firstUseCursor: _c,
        verdictPending: _p,
        ...rest
      } = f;
      return {
        ...rest,
        status: 'measurable',
        history: [
          ...(f.history ?? []),
          {
            ...(f.expectation ? { expectation: f.expectation } : {}),
            ...(launchedAt ? { launchedAt } : {}),
            ...(firstUseAt ? { firstUseAt } : {}),
            verdict: lastVerdict ?? retro.actual.verdict,
            decision,
            retro,
          },
        ],
      };
    });
    if (!updated) return this.deps.features.get(team, id) as Promise<Outcome<never>>;
    const view = retroViewOf(updated, ts);
    if (!view || (value !== 'iterate' && updated.decision?.at !== decision.at)) {
      return { ok: false, error: `${id} changed while deciding; look again and decide.` };
    }
    // Decided or iterated: the cycle's first-use watch has nothing left to find (PRODUCT.md: a
    // decided feature stops all of its jobs; each job also finds it so and does nothing).
    await this.deps.queue.removeJobScheduler(firstUseSchedulerId(team, id)).catch(() => false);
    await this.afterDecision(updated, view, value);
    return { ok: true, value: { feature: updated, view } };
  }

  /** Shows the decision on the retro message and the card, and asks for a linked flag's removal once. */
  private async afterDecision(feature: Feature, view: RetroView, value: Decision): Promise<void> {
    const { slack, log } = this.deps;
    await slack.update(feature.team, view.retro.channel, view.retro.ts, retroMessage(view));
    await this.deps.features
      .updateCard(feature)
      .catch((err) => log.warn({ feature: feature.id, err }, 'card update failed'));
    if (value === 'iterate' || !feature.flag) return;
    const key = `retro-flag:${feature.team}:${feature.id}:${view.retro.cycle}`;
    if (!(await this.deps.store.once(key, 400 * 24 * 3600))) return;
    const ask = flagRemovalMessage(view, value);
    try {
      await slack.post(feature.team, view.retro.channel, ask, view.retro.ts);
    } catch (err) {
      await this.deps.store.release(key);
      throw err;
    }
  }

  /** A reply in a retro thread becomes a note of its feature; a retried event is stored once. */
  async addNote(
    team: string,
    channel: string,
    threadTs: string,
    message: { user: string; text: string; ts: string },
  ): Promise<boolean> {
    const id = await this.deps.store.retroFeature(team, channel, threadTs);
    if (!id) return false;
    const key = `retro-note:${team}:${channel}:${message.ts}`;
    if (!(await this.deps.store.once(key, 30 * 24 * 3600))) return false;
    try {
      const at = DateTime.fromSeconds(Number(message.ts), { zone: 'utc' });
      await this.deps.store.addNote(team, id, {
        user: message.user,
        text: message.text,
        at: (at.isValid ? at : this.deps.now()).toUTC().toISO()!,
        ts: message.ts,
      });
      return true;
    } catch (err) {
      await this.deps.store.release(key);
      throw err;
    }
  }

  private async permalink(team: string, retro: Retro): Promise<string | undefined> {
    try {
      return await this.deps.jobSlack.permalink(team, retro.channel, retro.ts);
    } catch {
      return undefined;
    }
  }
}
