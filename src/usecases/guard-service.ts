import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import {
  type GuardState,
  guardsOf,
  isBreached,
  isGuarded,
  type Observation,
  roundOf,
  stepGuard,
} from '../domain/guard';
import type { Feature, Guard, PauseRecord } from '../domain/model';
import type { FlagProvider } from '../flags/flag-provider';
import type { Effects } from '../jobs/effects';
import { type JobData, jobId } from '../jobs/queue';
import { escapeMrkdwn } from '../slack/blocks/escape';
import {
  type AutoPauseNote,
  dismissedMessage,
  guardBreachMessage,
  guardOwnerDm,
  guardRecoveredMessage,
  pausedMessage,
} from '../slack/blocks/guard-blocks';
import type { SlackPort } from '../slack/port';
import type { FeatureStore } from '../store/feature-store';
import type { RedisClient } from '../store/redis-connection';
import type { Telemetry } from '../telemetry/telemetry';
import type { Measurement } from '../telemetry/types';
import type { Outcome } from './feature-service';

export interface GuardServiceDeps {
  store: FeatureStore;
  telemetry: Telemetry;
  queue: Queue<JobData>;
  redis: RedisClient;
  prefix: string;
  /** Posts from jobs (a client that rejects rate-limited calls), through `effects`. */
  jobPoster: SlackPort;
  /** Posts for a person who pressed a button. */
  poster: SlackPort;
  effects: Effects;
  flags?: FlagProvider;
  /** DONEDONE_ADMINS. */
  admins: readonly string[];
  /** Who may change a feature, workspace admins included (src/usecases/access.ts); without it, `admins` alone. */
  access?: { canChange(team: string, user: string, feature: Feature): Promise<boolean> };
  intervalMs: number;
  log: Logger;
  now: () => DateTime;
  zone?: string;
  /** Telemetry calls measured at once in a round. */
  concurrency?: number;
  /** Counts telemetry failures for /metrics (`donedone_telemetry_errors_total{source}`). */
  telemetryErrors?: { inc(labels: { source: string }): void };
}

/** A round job's data: the round's start (ms), when asked for one; a scheduled one uses the clock. */
export interface GuardRoundJob {
  round?: number;
}

/** One breach or recovery to tell: ids and numbers only (never user text or tokens). */
export interface GuardEventJob {
  team: string;
  id: string;
  guardKey: string;
  episode: number;
  kind: 'breach' | 'recovered';
  value: number | null;
  round: number;
}

export interface RoundSummary {
  round: number;
  features: number;
  guards: number;
  /** Distinct (metric, window) measured: one telemetry call each at most. */
  queries: number;
  outages: number;
  events: number;
}

export const GUARD_SCHEDULER_ID = 'guard-rounds';

/** Applies states whose round is newer than the stored one (a retried or late round changes nothing). */
const APPLY_SCRIPT = `
local round = tonumber(ARGV[1])
local applied = {}
for i = 2, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  local ok = true
  if cur then
    local s = cjson.decode(cur)
    if tonumber(s.round) >= round then ok = false end
  end
  if ok then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    applied[#applied + 1] = ARGV[i]
  end
end
return applied`;

const DISMISS_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local s = cjson.decode(cur)
if tonumber(s.episode) ~= tonumber(ARGV[2]) or s.status ~= 'breached' then return 0 end
if tonumber(s.dismissed or 0) == tonumber(ARGV[2]) then return 2 end
s.dismissed = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(s))
return 1`;

/** A guard's key: stable across processes and restarts, short enough for a button's value. */
export function guardKey(guard: Pick<Guard, 'text'>): string {
  return createHash('sha1').update(guard.text).digest('hex').slice(0, 10);
}

/** A guard's state is per launch: a relaunch starts every guard afresh. */
function stateField(feature: Feature, key: string): string {
  return `${feature.id}|${feature.launchedAt ? Date.parse(feature.launchedAt) : 0}|${key}`;
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(runners);
}

/**
 * Guardrails while a feature rolls out (PRODUCT.md): every interval one round measures each
 * distinct (metric, window) once for all features, steps each guard's state in Redis, and queues
 * one job per breach or recovery to tell; **Pause rollout** turns the linked flag off.
 */
export class GuardService {
  constructor(private readonly deps: GuardServiceDeps) {}

  private stateKey(team: string): string {
    return `${this.deps.prefix}guards:state:${team}`;
  }

  /**
   * Who may change a feature (pause its rollout, add a guard): owner, proposer or an admin.
   * With the access service, workspace admins (users.info) too.
   */
  async mayChange(feature: Feature, userId: string): Promise<boolean> {
    if (this.deps.access) return this.deps.access.canChange(feature.team, userId, feature);
    return feature.ownerId === userId || feature.proposedBy === userId || this.deps.admins.includes(userId);
  }

  private refusal(feature: Feature, what: string): string {
    const who = [...new Set([feature.ownerId, feature.proposedBy])].map((u) => `<@${u}>`).join(', ');
    return `Only ${feature.id}'s owner or proposer (${who}) or an admin can ${what}. Nothing changed.`;
  }

  /** The schedule of rounds (one BullMQ job scheduler, so restarts and several processes never double it). */
  async schedule(): Promise<void> {
    await this.deps.queue.upsertJobScheduler(
      GUARD_SCHEDULER_ID,
      { every: this.deps.intervalMs },
      { name: 'guard-round', data: {} },
    );
  }

  /** Queues the round the clock is in now (once per round, whoever asks). */
  async requestRound(): Promise<number> {
    const round = roundOf(this.deps.now().toMillis(), this.deps.intervalMs);
    await this.deps.queue.add('guard-round', { round }, { jobId: jobId('guard-round', round) });
    return round;
  }

  feature(team: string, id: string): Promise<Feature | null> {
    return this.deps.store.get(team, id);
  }

  /** Adds (or replaces, by its text) a guardrail given after the expectation. */
  async add(team: string, id: string, guard: Guard, userId: string): Promise<Outcome<Feature>> {
    const feature = await this.deps.store.get(team, id);
    if (!feature) return { ok: false, error: `There is no feature ${id} in this workspace.` };
    if (!(await this.mayChange(feature, userId)))
      return { ok: false, error: this.refusal(feature, 'add guardrails') };
    const why = this.deps.telemetry.whyUnmeasurable(guard.metric);
    if (why) return { ok: false, error: `${why}.` };
    const updated = await this.deps.store.update(team, id, (f) => ({
      ...f,
      guards: [...(f.guards ?? []).filter((g) => g.text !== guard.text), guard],
    }));
    if (!updated) return { ok: false, error: `There is no feature ${id} in this workspace.` };
    return { ok: true, value: updated };
  }

  private async states(team: string, fields: string[]): Promise<(GuardState | undefined)[]> {
    if (fields.length === 0) return [];
    const raw = await this.deps.redis.hmget(this.stateKey(team), ...fields);
    return raw.map((r) => (r ? (JSON.parse(r) as GuardState) : undefined));
  }

  /** Each guard of the feature with its state, for `show`, the API and the gate. */
  async statesOf(feature: Feature): Promise<{ guard: Guard; key: string; state?: GuardState }[]> {
    const guards = guardsOf(feature);
    const keys = guards.map(guardKey);
    const states = await this.states(
      feature.team,
      keys.map((k) => stateField(feature, k)),
    );
    return guards.map((guard, i) => ({ guard, key: keys[i]!, ...(states[i] ? { state: states[i] } : {}) }));
  }

  /**
   * The texts of the feature's guardrails that are breached now (and not dismissed), while they
   * are watched (launch to deadline): after the deadline the verdict speaks, not a stale breach.
   */
  async breachedOf(feature: Feature): Promise<string[]> {
    if (!isGuarded(feature, this.deps.now(), this.deps.zone)) return [];
    return (await this.statesOf(feature)).filter((s) => isBreached(s.state)).map((s) => s.guard.text);
  }

  /**
   * One round: every guarded feature of every workspace, one measurement per distinct
   * (metric, window) at the round's time, each guard's state stepped in Redis, one job per event.
   */
  async round(requested?: number): Promise<RoundSummary> {
    const round = requested ?? roundOf(this.deps.now().toMillis(), this.deps.intervalMs);
    const at = DateTime.fromMillis(round, { zone: 'utc' });
    const entries: { feature: Feature; guard: Guard; key: string; measure: string }[] = [];
    const measures = new Map<string, { guard: Guard; result?: Observation }>();
    let featureCount = 0;
    for (const team of await this.deps.store.teams()) {
      for (const feature of await this.deps.store.list(team)) {
        if (!isGuarded(feature, at, this.deps.zone)) continue;
        featureCount++;
        for (const guard of guardsOf(feature)) {
          const measure = JSON.stringify([guard.metric, guard.overSeconds]);
          if (!measures.has(measure)) measures.set(measure, { guard });
          entries.push({ feature, guard, key: guardKey(guard), measure });
        }
      }
    }
    let outages = 0;
    await pool([...measures.values()], this.deps.concurrency ?? 32, async (m) => {
      m.result = await this.observe(m.guard, at);
      if (m.result.kind === 'outage') outages++;
    });
    // Step every guard, team by team: read the states in one call, write them in one script.
    const events: GuardEventJob[] = [];
    const byTeam = new Map<string, typeof entries>();
    for (const e of entries) {
      const list = byTeam.get(e.feature.team);
      if (list) list.push(e);
      else byTeam.set(e.feature.team, [e]);
    }
    for (const [team, list] of byTeam) {
      for (let start = 0; start < list.length; start += 2000) {
        const chunk = list.slice(start, start + 2000);
        const fields = chunk.map((e) => stateField(e.feature, e.key));
        const states = await this.states(team, fields);
        const writes: string[] = [];
        const pending = new Map<string, GuardEventJob>();
        chunk.forEach((e, i) => {
          const state = states[i];
          const observation = measures.get(e.measure)!.result!;
          const step = stepGuard(state, e.guard, observation, round, at.toISO()!);
          if (!step) {
            // A retry of a round already applied tells its event again (the job id keeps it to once).
            if (state && state.round === round && state.event) {
              events.push(this.eventOf(e.feature, e.key, state, round));
            }
            return;
          }
          writes.push(fields[i]!, JSON.stringify(step.state));
          if (step.event) pending.set(fields[i]!, this.eventOf(e.feature, e.key, step.state, round));
        });
        if (writes.length === 0) continue;
        const applied = (await this.deps.redis.eval(
          APPLY_SCRIPT,
          1,
          this.stateKey(team),
          String(round),
          ...writes,
        )) as string[];
        for (const field of applied) {
          const event = pending.get(field);
          if (event) events.push(event);
        }
      }
    }
    if (events.length > 0) {
      await this.deps.queue.addBulk(
        events.map((e) => ({
          name: 'guard-event',
          data: e as unknown as JobData,
          opts: { jobId: jobId('guard-event', e.team, e.id, e.guardKey, e.episode, e.kind) },
        })),
      );
    }
    return {
      round,
      features: featureCount,
      guards: entries.length,
      queries: measures.size,
      outages,
      events: events.length,
    };
  }

  private eventOf(feature: Feature, key: string, state: GuardState, round: number): GuardEventJob {
    return {
      team: feature.team,
      id: feature.id,
      guardKey: key,
      episode: state.episode,
      kind: state.event!,
      value: state.lastValue,
      round,
    };
  }

  /** One measurement for a guard; an outage (or a query the API refuses) is never a breach. */
  private async observe(guard: Guard, at: DateTime): Promise<Observation> {
    let m: Measurement;
    try {
      m = await this.deps.telemetry.valueOver(
        guard.metric,
        Duration.fromObject({ seconds: guard.overSeconds }),
        at,
      );
    } catch (err) {
      this.deps.log.warn({ guard: guard.text, err }, 'guardrail could not be measured');
      this.deps.telemetryErrors?.inc({ source: (err as { source?: string }).source ?? 'unknown' });
      return { kind: 'outage' };
    }
    return m.value === null || !Number.isFinite(m.value)
      ? { kind: 'no data' }
      : { kind: 'value', value: m.value };
  }

  /** A breach or recovery job: posts it once in the thread, DMs the owner, auto-pauses when asked. */
  async eventJob(job: GuardEventJob): Promise<string> {
    const feature = await this.deps.store.get(job.team, job.id);
    if (!feature || feature.status === 'dropped' || feature.status === 'decided')
      return 'skipped: feature gone';
    const guard = guardsOf(feature).find((g) => guardKey(g) === job.guardKey);
    if (!guard) return 'skipped: guard removed';
    const base = `guard:${job.team}:${job.id}:${job.guardKey}:${job.episode}`;
    const channel = feature.channel ?? feature.ownerId;
    if (job.kind === 'recovered') {
      await this.deps.effects.once(`${base}:recovered`, channel, () =>
        this.deps.jobPoster.inThread(feature, guardRecoveredMessage(feature, guard, job.value)),
      );
      return 'recovered';
    }
    let autoPause: AutoPauseNote | undefined;
    if (guard.autoPause) autoPause = await this.autoPause(feature, guard, job);
    await this.deps.effects.once(`${base}:breach`, channel, () =>
      this.deps.jobPoster.inThread(
        feature,
        guardBreachMessage(feature, guard, job.value, job.guardKey, job.episode, autoPause),
      ),
    );
    await this.deps.effects.once(`${base}:dm`, feature.ownerId, () =>
      this.deps.jobPoster.dm(
        feature.team,
        feature.ownerId,
        guardOwnerDm(feature, guard, job.value, autoPause),
      ),
    );
    return 'breach';
  }

  /** Auto-pause at the second breach: the flag call is made once per breach (its outcome kept). */
  private async autoPause(feature: Feature, guard: Guard, job: GuardEventJob): Promise<AutoPauseNote> {
    const key = `${this.deps.prefix}guards:auto-pause:${job.team}:${job.id}:${job.guardKey}:${job.episode}`;
    const kept = await this.deps.redis.get(key);
    if (kept) return JSON.parse(kept) as AutoPauseNote;
    const done = await this.turnOff(feature, guard, 'auto-pause');
    const note: AutoPauseNote = done.ok
      ? { ok: true, text: done.value }
      : { ok: false, text: `${done.error} Press *Pause rollout* to try again.` };
    await this.deps.redis.set(key, JSON.stringify(note), 'EX', 90 * 86_400);
    return note;
  }

  /**
   * Turns the feature's flag off through the provider and records who did it and the answer; with
   * no provider (or no flag) records the decision and says what to turn off. Text for the thread.
   */
  private async turnOff(feature: Feature, guard: Guard, by: string): Promise<Outcome<string>> {
    const flag = feature.flag?.key;
    const { flags } = this.deps;
    let record: Omit<PauseRecord, 'at' | 'by' | 'guard'>;
    let text: string;
    if (flags && flag) {
      const outcome = await flags.turnOff(
        flag,
        `Paused by donedone: a guardrail of ${feature.id} is breached (${guard.text})`,
      );
      if (!outcome.ok) {
        this.deps.log.warn(
          { feature: feature.id, provider: flags.name, status: outcome.status },
          'pause failed',
        );
        return { ok: false, error: `Could not turn \`${escapeMrkdwn(flag)}\` off: ${outcome.reason}` };
      }
      record = { provider: flags.name, flag, answer: outcome.answer };
      text = `${flags.label} turned \`${escapeMrkdwn(flag)}\` off in ${escapeMrkdwn(flags.environment)} (${outcome.answer}).`;
    } else if (flag) {
      record = { provider: 'none', flag, answer: `turn ${flag} off by hand` };
      text = `No flag tool is configured (FLAGS_PROVIDER): turn \`${escapeMrkdwn(flag)}\` off in your flag tool now.`;
    } else {
      record = { provider: 'none', answer: 'no flag linked' };
      text = `No flag is linked to ${feature.id}: turn off whatever rolls it out. \`/donedone flag ${feature.id} <flag-key>\` links one for next time.`;
    }
    const pause: PauseRecord = { at: this.deps.now().toUTC().toISO()!, by, guard: guard.text, ...record };
    await this.deps.store.update(feature.team, feature.id, (f) => ({
      ...f,
      pauses: [...(f.pauses ?? []), pause],
    }));
    return { ok: true, value: text };
  }

  /** **Pause rollout**, pressed: for the owner, the proposer and admins; a failure is told to the presser. */
  async pause(team: string, id: string, key: string, userId: string): Promise<Outcome<string>> {
    const feature = await this.deps.store.get(team, id);
    if (!feature) return { ok: false, error: `There is no feature ${id} any more.` };
    if (!(await this.mayChange(feature, userId)))
      return { ok: false, error: this.refusal(feature, 'pause its rollout') };
    const guard = guardsOf(feature).find((g) => guardKey(g) === key);
    if (!guard) return { ok: false, error: `That guardrail is no longer on ${feature.id}.` };
    const done = await this.turnOff(feature, guard, userId);
    if (!done.ok) return { ok: false, error: `${done.error} Nothing was recorded.` };
    await this.deps.poster
      .inThread(feature, pausedMessage(feature, userId, done.value))
      .catch((err) => this.deps.log.warn({ feature: id, err }, 'could not post the pause'));
    return { ok: true, value: `Paused ${feature.id}'s rollout. ${done.value}` };
  }

  /** **Dismiss**: this breach no longer fails the gate (a new one is told again). */
  async dismiss(
    team: string,
    id: string,
    key: string,
    episode: number,
    userId: string,
  ): Promise<Outcome<string>> {
    const feature = await this.deps.store.get(team, id);
    if (!feature) return { ok: false, error: `There is no feature ${id} any more.` };
    if (!(await this.mayChange(feature, userId)))
      return { ok: false, error: this.refusal(feature, 'dismiss its breaches') };
    const guard = guardsOf(feature).find((g) => guardKey(g) === key);
    if (!guard) return { ok: false, error: `That guardrail is no longer on ${feature.id}.` };
    const result = Number(
      await this.deps.redis.eval(
        DISMISS_SCRIPT,
        1,
        this.stateKey(team),
        stateField(feature, key),
        String(episode),
      ),
    );
    if (result === 0)
      return { ok: false, error: `That breach of \`${escapeMrkdwn(guard.text)}\` is over already.` };
    if (result === 2) return { ok: true, value: 'Already dismissed.' };
    await this.deps.poster
      .inThread(feature, dismissedMessage(feature, guard, userId))
      .catch((err) => this.deps.log.warn({ feature: id, err }, 'could not post the dismissal'));
    return { ok: true, value: `Dismissed: the gate no longer fails on \`${escapeMrkdwn(guard.text)}\`.` };
  }
}
