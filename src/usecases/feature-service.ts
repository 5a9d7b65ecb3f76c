import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { AuditEntry } from '../domain/audit';
import type { Check, Expectation, Feature, Instrumented } from '../domain/model';
import { type ParseResult, parseExpectation } from '../domain/parse-expectation';
import { deadlineOf, judge, type Reading, windowDuration } from '../domain/verdict';
import { checkMessage, instrumentationNote } from '../slack/blocks/card-blocks';
import type { SlackPort } from '../slack/port';
import type { CheckStore } from '../store/check-store';
import type { FeatureStore } from '../store/feature-store';
import type { Marks } from '../store/marks';
import type { Telemetry } from '../telemetry/telemetry';
import { TelemetryQueryError, TelemetryUnavailableError } from '../telemetry/types';

export interface ServiceDeps {
  store: FeatureStore;
  checks: CheckStore;
  marks: Marks;
  telemetry: Telemetry;
  poster: SlackPort;
  log: Logger;
  now: () => DateTime;
  /** The workspace's zone (DONEDONE_TIMEZONE); UTC when unset. */
  zone?: string;
  /**
   * A `check` after the deadline of a feature without a verdict yet (pending, or the final check
   * never ran): the final check runs now and settles it. Null when nothing needs settling.
   */
  settle?: (feature: Feature) => Promise<Check | null>;
  /** Called when a launched feature's expectation changes, so its checks are planned anew. */
  onExpectationChanged?: (previous: Feature | null, feature: Feature) => Promise<void>;
  /** A line for the answer to a new expectation: how the owner's past ones landed (learning-service). */
  expectationNote?: (feature: Feature) => Promise<string | null>;
  /** A feature's history of changes (the audit trail), for `show`. */
  history?: (team: string, id: string) => Promise<AuditEntry[]>;
}

/** Which features `list` shows: all, the open ones, or one person's. */
export type ListScope = { kind: 'all' } | { kind: 'open' } | { kind: 'owner'; owner: string };

/** Everything `show` tells of a feature. */
export interface FeatureDetails {
  feature: Feature;
  checks: Check[];
  notes: { user: string; text: string; at: string; ts: string }[];
  history: AuditEntry[];
}

export type Outcome<T> = { ok: true; value: T; note?: string } | { ok: false; error: string };

/**
 * What donedone does, independent of how it was asked (slash command, button, modal, API, job).
 * Slack listeners and job processors call these; they hold no Slack wire details.
 */
export class FeatureService {
  constructor(private readonly deps: ServiceDeps) {}

  parseExpectation(text: string): ParseResult<Expectation> {
    const parsed = parseExpectation(text, this.deps.telemetry.isCatalogName);
    if (!parsed.ok) return parsed;
    const why = this.deps.telemetry.whyUnmeasurable(parsed.value.metric, parsed.value.window);
    if (why) return { ok: false, error: `${why}.` };
    for (const guard of parsed.value.guards ?? []) {
      const whyGuard = this.deps.telemetry.whyUnmeasurable(guard.metric);
      if (whyGuard) return { ok: false, error: `In \`guard ${guard.text}\`: ${whyGuard}.` };
    }
    return parsed;
  }

  async get(team: string, id: string): Promise<Outcome<Feature>> {
    const feature = await this.deps.store.get(team, id);
    if (!feature) {
      return {
        ok: false,
        error: `There is no feature ${id} in this workspace. \`/donedone list all\` shows every feature.`,
      };
    }
    return { ok: true, value: feature };
  }

  /** The feature, or null when there is none by that id in the workspace. */
  find(team: string, id: string): Promise<Feature | null> {
    return this.deps.store.get(team, id);
  }

  async details(team: string, id: string): Promise<Outcome<FeatureDetails>> {
    const found = await this.get(team, id);
    if (!found.ok) return found;
    const [checks, notes, history] = await Promise.all([
      this.deps.checks.list(team, id),
      this.deps.checks.notes(team, id),
      this.deps.history ? this.deps.history(team, id) : Promise.resolve([]),
    ]);
    return { ok: true, value: { feature: found.value, checks, notes, history } };
  }

  async list(team: string, scope: ListScope): Promise<Feature[]> {
    if (scope.kind === 'owner') return this.deps.store.listByOwner(team, scope.owner);
    const all = await this.deps.store.list(team);
    return scope.kind === 'open' ? all.filter((f) => f.status !== 'dropped' && f.status !== 'decided') : all;
  }

  /** Takes the feature off the board; `stop` ends its scheduled work. */
  async drop(
    team: string,
    id: string,
    reason: string | undefined,
    stop: (feature: Feature) => Promise<void>,
  ): Promise<Outcome<Feature>> {
    const found = await this.get(team, id);
    if (!found.ok) return found;
    if (found.value.status === 'dropped') return { ok: false, error: `${id} is already off the board.` };
    const updated = await this.deps.store.update(team, id, (f) => ({
      ...f,
      status: 'dropped',
      ...(reason ? { droppedReason: reason } : {}),
    }));
    if (!updated) return this.get(team, id) as Promise<Outcome<never>>;
    await stop(updated);
    await this.updateCard(updated);
    return { ok: true, value: updated };
  }

  /** Links a feature flag to the feature (`flag F-3 <key> [since …]`). */
  async linkFlag(team: string, id: string, key: string, since: string): Promise<Outcome<Feature>> {
    const updated = await this.deps.store.update(team, id, (f) => ({ ...f, flag: { key, since } }));
    return updated ? { ok: true, value: updated } : this.get(team, id);
  }

  /** Hands the feature over to `owner`; its card shows the new owner. */
  async handOver(team: string, id: string, owner: string): Promise<Outcome<Feature>> {
    const updated = await this.deps.store.update(team, id, (f) => ({ ...f, ownerId: owner }));
    if (!updated) return this.get(team, id);
    await this.updateCard(updated);
    return { ok: true, value: updated };
  }

  /**
   * A "Proposal:" message becomes a feature once, however often Slack delivers it; a failure gives
   * the claim back so a retry can try again (the feature it made is reused by `requestKey`).
   */
  async proposeFromMessage(args: {
    team: string;
    channel: string;
    userId: string;
    title: string;
    ts: string;
  }): Promise<Outcome<Feature> | null> {
    const claim = `message:${args.team}:${args.channel}:${args.ts}`;
    if (!(await this.deps.marks.once(claim))) return null;
    try {
      return await this.propose({
        team: args.team,
        channel: args.channel,
        userId: args.userId,
        title: args.title,
        threadTs: args.ts,
        requestKey: `${args.channel}:${args.ts}`,
      });
    } catch (err) {
      await this.deps.marks.release(claim);
      throw err;
    }
  }

  now(): DateTime {
    return this.deps.now();
  }

  updateCard(feature: Feature): Promise<void> {
    return this.deps.poster.updateCard(feature);
  }

  /** Creates a feature and posts its card; with an expectation, checks that the metric has data. */
  async propose(args: {
    team: string;
    channel: string;
    userId: string;
    title: string;
    hypothesis?: string;
    expectation?: Expectation;
    ownerId?: string;
    threadTs?: string;
    /**
     * Names the request (a planning message's channel and ts): a retry after the card could not be
     * posted posts the card of the feature the first try created, instead of a second feature.
     */
    requestKey?: string;
  }): Promise<Outcome<Feature>> {
    const now = this.deps.now();
    const madeKey = args.requestKey ? `propose:${args.requestKey}` : undefined;
    const made = madeKey ? await this.deps.marks.recall(args.team, madeKey) : null;
    const earlier = made ? await this.deps.store.get(args.team, made) : null;
    if (earlier?.cardTs) return { ok: true, value: earlier };
    let feature =
      earlier ??
      (await this.deps.store.create(args.team, () => ({
        title: args.title,
        ownerId: args.ownerId ?? args.userId,
        proposedBy: args.userId,
        status: args.expectation ? 'measurable' : 'proposed',
        createdAt: now.toISO()!,
        channel: args.channel,
        ...(args.hypothesis ? { hypothesis: args.hypothesis } : {}),
        ...(args.expectation ? { expectation: args.expectation } : {}),
        ...(args.threadTs ? { parentTs: args.threadTs } : {}),
      })));
    if (madeKey && !earlier) await this.deps.marks.remember(args.team, madeKey, feature.id);
    // The metric is looked for while the card is posted: neither waits for the other.
    const measured = args.expectation ? this.instrumentation(feature) : null;
    measured?.catch(() => undefined); // awaited below, after the card
    const cardTs = await this.deps.poster.postCard(feature, args.channel, args.threadTs);
    feature = (await this.deps.store.update(args.team, feature.id, (f) => ({ ...f, cardTs }))) ?? feature;
    if (!measured) return { ok: true, value: feature };
    return this.checkInstrumented(feature, measured);
  }

  /** Records or replaces the expectation, then checks the metric and updates the card. */
  async expect(
    team: string,
    id: string,
    expectation: Expectation,
    ownerId?: string,
  ): Promise<Outcome<Feature>> {
    let previous: Feature | null = null;
    const updated = await this.deps.store.update(team, id, (f) => {
      previous = f;
      return {
        ...f,
        expectation,
        status: f.status === 'proposed' ? 'measurable' : f.status,
        ...(ownerId ? { ownerId } : {}),
      };
    });
    if (!updated) return this.get(team, id);
    const result = await this.checkInstrumented(updated);
    if (updated.launchedAt && this.deps.onExpectationChanged)
      await this.deps.onExpectationChanged(previous, updated);
    return result;
  }

  /**
   * Queries the metric over its window. No data → the card warns it is not instrumented;
   * unreachable → kept, checked later. Never loses the expectation.
   */
  /** Whether the expectation's metric has data now; a telemetry failure is `unknown`, with its words. */
  private async instrumentation(feature: Feature): Promise<{ instrumented: Instrumented; error?: string }> {
    const e = feature.expectation!;
    try {
      const m = await this.deps.telemetry.valueOver(e.metric, windowDuration(e.window), this.deps.now());
      return { instrumented: m.value === null ? 'no' : 'yes' };
    } catch (err) {
      if (!(err instanceof TelemetryQueryError) && !(err instanceof TelemetryUnavailableError)) throw err;
      this.deps.log.warn({ feature: feature.id, err }, 'instrumentation check failed');
      return {
        instrumented: 'unknown',
        ...(err instanceof TelemetryQueryError ? { error: err.message } : {}),
      };
    }
  }

  private async checkInstrumented(
    feature: Feature,
    measured = this.instrumentation(feature),
  ): Promise<Outcome<Feature>> {
    const { instrumented, error } = await measured;
    const updated =
      (await this.deps.store.update(feature.team, feature.id, (f) => ({ ...f, instrumented }))) ?? feature;
    let note = instrumentationNote(updated) ?? undefined;
    if (error) note = `${note ?? ''}\n:warning: ${error}`.trim();
    const [, calibration] = await Promise.all([
      this.deps.poster.updateCard(updated),
      this.deps.expectationNote?.(updated).catch(() => null),
    ]);
    if (calibration) note = `${note ?? ''}\n${calibration}`.trim();
    return note ? { ok: true, value: updated, note } : { ok: true, value: updated };
  }

  /**
   * Measures a feature now, judges it, stores the check and posts it in the feature's thread.
   * Telemetry failures give `unknown`, never `missed`.
   */
  async check(
    team: string,
    id: string,
    kind: Check['kind'] = 'manual',
    at?: DateTime,
  ): Promise<Outcome<Check>> {
    const found = await this.get(team, id);
    if (!found.ok) return found;
    const feature = found.value;
    if (!feature.expectation) {
      return {
        ok: false,
        error: `${id} has no expectation yet, so there is nothing to check. Add one: \`/donedone expect ${id} bulk_export_total >= 200 per week\``,
      };
    }
    if (kind === 'manual' && !at && this.deps.settle) {
      const settled = await this.deps.settle(feature);
      if (settled) return { ok: true, value: settled };
    }
    const check = await this.measure(feature, at ?? this.deps.now(), kind);
    // The check and the verdict on the feature are written together, then the thread post and the
    // card update go out together: the asker's answer waits for one round trip of each, not two.
    const [, updated] = await Promise.all([
      this.deps.checks.add(team, id, check),
      this.deps.store.update(team, id, (f) => ({
        ...f,
        lastVerdict: check.verdict,
        ...(check.value !== null && f.instrumented !== 'yes' ? { instrumented: 'yes' as const } : {}),
      })),
    ]);
    await Promise.all([
      this.deps.poster.inThread(
        updated ?? feature,
        checkMessage(updated ?? feature, check, this.deps.telemetry.unitOf(feature.expectation.metric)),
      ),
      updated ? this.deps.poster.updateCard(updated) : undefined,
    ]);
    return { ok: true, value: check };
  }

  /** The workspace's zone: launch days, deadlines, months used (PRODUCT.md). */
  get zone(): string {
    return this.deps.zone ?? 'UTC';
  }

  /** The feature's deadline, or null before launch. */
  deadlineOf(feature: Feature): DateTime | null {
    return feature.expectation && feature.launchedAt
      ? deadlineOf(feature.expectation, feature.launchedAt, this.zone)
      : null;
  }

  /**
   * First use up to `at` when the hourly watch has not found it yet (it runs once an hour): a
   * verdict must not call a feature unused because the watch has not looked since. Not stored:
   * the watch records it and announces done-done.
   */
  private async firstUseUpTo(
    feature: Feature,
    launchedAt: DateTime | null,
    at: DateTime,
  ): Promise<DateTime | null> {
    if (!launchedAt || at <= launchedAt || !feature.expectation) return null;
    const from = feature.firstUseCursor
      ? DateTime.fromISO(feature.firstUseCursor, { zone: 'utc' })
      : launchedAt;
    if (from >= at) return null;
    const found = await this.deps.telemetry.firstUseAfter(feature.expectation.metric, {
      launch: launchedAt,
      from,
      to: at,
    });
    return found.at;
  }

  /**
   * One measurement and its verdict, without storing or posting it. The verdict judges the rate
   * since first use (or since launch, when the metric was in use before it), from this
   * expectation's own earlier checks of this launch only.
   */
  async measure(
    feature: Feature,
    at: DateTime,
    kind: Check['kind'],
    /** The feature's checks, when the caller has just read them (a sweep's checkpoint does). */
    stored?: readonly Check[],
  ): Promise<Check> {
    const e = feature.expectation!;
    const deadline = this.deadlineOf(feature);
    const launchedAt = feature.launchedAt ? DateTime.fromISO(feature.launchedAt, { zone: 'utc' }) : null;
    try {
      // The value, the history and the first-use search are asked for at once (two telemetry
      // queries and a Redis read that do not depend on one another).
      const [m, checks, firstUseAt] = await Promise.all([
        this.deps.telemetry.valueOver(e.metric, windowDuration(e.window), at),
        stored ?? this.deps.checks.list(feature.team, feature.id),
        feature.usedBeforeLaunch
          ? launchedAt
          : feature.firstUseAt
            ? DateTime.fromISO(feature.firstUseAt, { zone: 'utc' })
            : this.firstUseUpTo(feature, launchedAt, at),
      ]);
      const history: Reading[] = checks
        .filter(
          (c) =>
            c.value !== null &&
            (c.expectation ?? e.text) === e.text &&
            (!feature.launchedAt || c.at >= feature.launchedAt),
        )
        .map((c) => ({ at: DateTime.fromISO(c.at, { zone: 'utc' }), value: c.value! }));
      const j = judge({
        expectation: e,
        value: m.value,
        at,
        deadline,
        launchedAt,
        firstUseAt,
        cumulative: this.deps.telemetry.isCumulative(e.metric, e.unit),
        history,
      });
      const check: Check = {
        at: at.toUTC().toISO()!,
        kind,
        value: m.value,
        verdict: j.verdict,
        query: m.query,
        expectation: e.text,
      };
      if (j.projected !== undefined && deadline) check.projected = j.projected;
      return check;
    } catch (err) {
      if (!(err instanceof TelemetryUnavailableError) && !(err instanceof TelemetryQueryError)) throw err;
      this.deps.log.warn({ feature: feature.id, err }, 'check could not measure');
      return {
        at: at.toUTC().toISO()!,
        kind,
        value: null,
        verdict: 'unknown',
        query: '',
        error: err.message,
        expectation: e.text,
      };
    }
  }
}
