import { randomBytes } from 'node:crypto';
import { type DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import {
  type Calibration,
  calibrate,
  describeCalibration,
  type JudgedCycle,
  judgedCycles,
  judgedFingerprint,
} from '../domain/calibration';
import type { Expectation, Feature } from '../domain/model';
import { formatMetric, parseMetric } from '../domain/parse-expectation';
import {
  type CandidateIndex,
  indexCandidates,
  type MetricCandidate,
  type PastFeature,
  rankMetrics,
  type SuggestedTarget,
  type Suggestion,
  suggestTarget,
} from '../domain/suggest-metrics';
import type { CheckStore } from '../store/check-store';
import type { FeatureStore } from '../store/feature-store';
import { teamKey } from '../store/keys';
import type { RedisClient } from '../store/redis-connection';
import type { Telemetry } from '../telemetry/telemetry';

export interface LearningDeps {
  store: FeatureStore;
  checks: CheckStore;
  telemetry: Telemetry;
  redis: RedisClient;
  prefix: string;
  now: () => DateTime;
  log: Logger;
  /** The workspace's zone (`DONEDONE_TIMEZONE`): a digest's calendar month is counted in it. */
  zone: string;
  /** How long a source may take to list its names, and a suggestion's weekly value to come back. */
  timeoutMs?: number;
  /**
   * The features `user` may see (PRODUCT.md: a private conversation's features are seen by its
   * members only), so a suggestion never names a past feature its reader may not see.
   */
  visibleTo?: (team: string, user: string, features: readonly Feature[]) => Promise<Feature[]>;
}

/** A suggestion with what the telemetry said of it now. */
export interface OfferedMetric extends Suggestion {
  /** This week's value; null with `valueError` unset means the metric has no data yet. */
  value: number | null;
  /** Why there is no value (the telemetry could not be reached, or did not answer in time). */
  valueError?: string;
  target: SuggestedTarget | null;
}

export interface Offer {
  title: string;
  featureId?: string;
  metrics: OfferedMetric[];
  /** How much was searched, for "nothing close" answers. */
  searched: { metrics: number; features: number; unavailable: string[] };
}

/** Calibration per owner and for the team, with the words to show. */
export interface TeamCalibration {
  team: Calibration;
  owners: Map<string, Calibration>;
}

/** What can be measured, its words folded once, and the sources that could not list. */
interface Corpus {
  candidates: MetricCandidate[];
  index: CandidateIndex;
  unavailable: string[];
}

const WEEK = Duration.fromObject({ days: 7 });
/** Owners' calibrations one process keeps (each a few numbers); past this many, the cache starts again. */
const CALIBRATIONS_KEPT = 10_000;
/**
 * A kept calibration is read again after this long whatever its version says: should a version's
 * renewal be lost (Redis failing just after the feature's write), a card is wrong for minutes, not for good.
 */
const CALIBRATION_MAX_AGE_MS = 10 * 60_000;
const CORPUS_TTL_MS = 60_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref();
    }),
  ]);
}

/**
 * Learning from past features: each owner's calibration (how their judged expectations landed)
 * and metric suggestions for a title (the catalog, the sources' names and HELP text, and past
 * features with similar titles). Read-only: it never changes a feature.
 */
export class LearningService {
  private corpus?: { at: number; value: Promise<Corpus> };

  constructor(private readonly deps: LearningDeps) {}

  private get timeoutMs(): number {
    return this.deps.timeoutMs ?? 5_000;
  }

  /** Judged cycles of these features; the final checks are read only for current cycles that may have one. */
  async judged(features: readonly Feature[]): Promise<JudgedCycle[]> {
    const lists = await Promise.all(
      features.map(async (f) => {
        // A final check that said met or missed moved the status (watch-service); a retro of this
        // launch already holds the value. Only then is there a final check worth reading.
        const mayHaveFinal =
          f.launchedAt &&
          ['met', 'missed', 'decided'].includes(f.status) &&
          f.retro?.launchedAt !== f.launchedAt;
        const checks = mayHaveFinal ? await this.deps.checks.list(f.team, f.id) : [];
        return judgedCycles(f, checks);
      }),
    );
    return lists.flat();
  }

  /**
   * An owner's calibration. Every card of a feature waiting for its verdict shows it, and a sweep
   * updates every card: so it is kept per process against the owner's calibration version in Redis,
   * which `featureWritten` changes (after the write) whenever a feature's judged cycles may have
   * changed, in any process. A card then costs one GET, not a read of all the owner's features.
   */
  async ownerCalibration(team: string, ownerId: string): Promise<Calibration> {
    const cacheKey = `${team}\n${ownerId}`;
    const version = await this.calibrationVersion(team, ownerId);
    const cached = this.calibrations.get(cacheKey);
    const now = Date.now();
    if (cached?.version === version && now - cached.at < CALIBRATION_MAX_AGE_MS) return cached.value;
    // Read after the version: a write in between makes the version newer than what is kept here.
    const value = calibrate(await this.judged(await this.deps.store.listByOwner(team, ownerId)));
    if (this.calibrations.size >= CALIBRATIONS_KEPT) this.calibrations.clear();
    this.calibrations.set(cacheKey, { version, value, at: now });
    return value;
  }

  private readonly calibrations = new Map<string, { version: string; value: Calibration; at: number }>();

  private calibrationKey(team: string, ownerId: string): string {
    return teamKey(this.deps.prefix, team, 'calibration-version', ownerId);
  }

  /**
   * The owner's calibration version: a random token, made when there is none, so a store that was
   * reset (a flush, a Redis restarted without persistence) never matches what a process kept.
   */
  private async calibrationVersion(team: string, ownerId: string): Promise<string> {
    const key = this.calibrationKey(team, ownerId);
    const version = await this.deps.redis.get(key);
    if (version) return version;
    await this.deps.redis.set(key, randomBytes(6).toString('hex'), 'NX');
    return (await this.deps.redis.get(key)) ?? '';
  }

  /**
   * Told of every write of a feature (`FeatureStore.onWrite`, after it is stored): a write that may
   * change the owner's judged cycles (a verdict at the deadline, a retro, a relaunch, a new owner)
   * gives the owner, and a previous owner, a new calibration version. A final check is stored before
   * the status it moves (watch-service), so whoever sees the new version also sees the check.
   * A renewal that fails is logged, not thrown: the feature is stored by then, and its writer must
   * not be told it failed; a kept calibration is read again within CALIBRATION_MAX_AGE_MS anyway.
   */
  async featureWritten(before: Feature | null, after: Feature): Promise<void> {
    if (before ? judgedFingerprint(before) === judgedFingerprint(after) : judgedCycles(after).length === 0)
      return;
    const owners = new Set([after.ownerId, before?.ownerId ?? after.ownerId]);
    try {
      await Promise.all(
        [...owners].map((owner) =>
          this.deps.redis.set(this.calibrationKey(after.team, owner), randomBytes(6).toString('hex')),
        ),
      );
    } catch (err) {
      this.deps.log.warn(
        { feature: after.id, err },
        `calibration version not renewed; kept calibrations are read again within ${CALIBRATION_MAX_AGE_MS / 60_000} minutes`,
      );
    }
  }

  /**
   * What the answer to a new expectation says of its owner's past ones, or null when the owner has
   * none judged: "<@U1>'s judged expectations: met 3 of 5; actuals at a median 64% of target, 20%–130%".
   */
  async expectationNote(feature: Feature): Promise<string | null> {
    const words = describeCalibration(await this.ownerCalibration(feature.team, feature.ownerId));
    if (!words) return null;
    return `:bar_chart: How <@${feature.ownerId}>'s judged expectations landed: ${words}. Details: \`/donedone scorecard <@${feature.ownerId}>\``;
  }

  /** The card's context line: shown while the feature's own expectation waits for its verdict. */
  async cardLine(feature: Feature): Promise<string | null> {
    if (!feature.expectation) return null;
    if (['met', 'missed', 'decided', 'dropped'].includes(feature.status)) return null;
    const words = describeCalibration(await this.ownerCalibration(feature.team, feature.ownerId));
    return words ? `:bar_chart: Owner's past expectations: ${words} · \`/donedone scorecard\`` : null;
  }

  /** Each owner's calibration and the team's, over the features given. */
  async teamCalibration(features: readonly Feature[]): Promise<TeamCalibration> {
    const cycles = await this.judged(features);
    const byOwner = new Map<string, JudgedCycle[]>();
    for (const c of cycles) byOwner.set(c.ownerId, [...(byOwner.get(c.ownerId) ?? []), c]);
    const owners = new Map<string, Calibration>();
    for (const [owner, list] of byOwner) owners.set(owner, calibrate(list));
    return { team: calibrate(cycles), owners };
  }

  /**
   * The team's calibration for a digest, once a calendar month per channel: in the first digest posted
   * in that channel in a month of the workspace's zone. The month is claimed with the digest's slot,
   * so a retried post of the same digest still shows it and a later digest that month does not.
   */
  async monthlyDigestLine(
    team: string,
    channel: string,
    slot: string,
    now: DateTime,
  ): Promise<string | null> {
    // Nothing judged yet claims nothing: the month's first digest with something to say shows it.
    const words = describeCalibration((await this.teamCalibration(await this.deps.store.list(team))).team);
    if (!words) return null;
    const month = now.setZone(this.deps.zone).toFormat('yyyy-MM');
    const key = teamKey(this.deps.prefix, team, 'calibration-digest', channel, month);
    await this.deps.redis.set(key, slot, 'EX', 40 * 24 * 3600, 'NX');
    if ((await this.deps.redis.get(key)) !== slot) return null;
    return `:bar_chart: This month's look back: the team's judged expectations ${words}.`;
  }

  /** Everything that can be measured, with descriptions where the source has them; kept a minute. */
  private async candidates(): Promise<Corpus> {
    const cached = this.corpus;
    if (cached && Date.now() - cached.at < CORPUS_TTL_MS) return cached.value;
    const value = this.loadCandidates();
    this.corpus = { at: Date.now(), value };
    return value;
  }

  private async loadCandidates(): Promise<Corpus> {
    const { telemetry, log } = this.deps;
    const candidates: MetricCandidate[] = telemetry.catalog.map((e) => ({
      metric: e.name,
      source: 'catalog',
      name: e.name,
      description: e.description,
    }));
    const unavailable: string[] = [];
    const sources = (['prometheus', 'posthog', 'honeycomb'] as const).flatMap((name) => {
      const source = telemetry.source(name);
      return source ? [source] : [];
    });
    await Promise.all(
      sources.map(async (source) => {
        try {
          const names = await withTimeout(source.list(), this.timeoutMs, source.name);
          let help = new Map<string, string>();
          const describing = source as { metadata?: () => Promise<Map<string, string>> };
          if (typeof describing.metadata === 'function') {
            help = await withTimeout(describing.metadata(), this.timeoutMs, source.name).catch((err) => {
              log.warn({ err }, 'metric metadata unavailable; names only');
              return new Map<string, string>();
            });
          }
          for (const name of names) {
            if (source.name === 'prometheus') {
              // OpenMetrics names a counter's family without `_total`; text format with it.
              const description = help.get(name) ?? help.get(name.replace(/_(total|count|sum|bucket)$/, ''));
              candidates.push({
                metric: name,
                source: 'prometheus',
                name,
                ...(description ? { description } : {}),
              });
            } else {
              const metric = formatMetric({ source: source.name, event: name });
              const description = help.get(name);
              candidates.push({ metric, source: source.name, name, ...(description ? { description } : {}) });
            }
          }
        } catch (err) {
          unavailable.push(source.name);
          log.warn({ source: source.name, err }, 'could not list metrics to suggest');
        }
      }),
    );
    if (unavailable.length > 0) this.corpus = undefined;
    return { candidates, index: indexCandidates(candidates), unavailable };
  }

  /** Past features with an expectation (each earlier cycle too), with how they landed. */
  private async past(team: string, exceptId?: string, viewer?: string): Promise<PastFeature[]> {
    const all = (await this.deps.store.list(team)).filter((f) => f.id !== exceptId);
    const features = viewer && this.deps.visibleTo ? await this.deps.visibleTo(team, viewer, all) : all;
    const perFeature = await Promise.all(
      features.map(async (f) => {
        const out: PastFeature[] = [];
        const add = (e: Expectation, judged: JudgedCycle | undefined) =>
          out.push({
            id: f.id,
            title: f.title,
            metric: formatMetric(e.metric),
            op: e.op,
            target: e.target,
            window: e.window,
            ...(judged ? { verdict: judged.verdict, value: judged.value, share: judged.share } : {}),
          });
        for (const h of f.history ?? []) {
          if (h.expectation) add(h.expectation, judgedCycles({ ...f, history: [h], status: 'dropped' })[0]);
        }
        if (f.expectation) {
          const [current] = await this.judged([{ ...f, history: [] }]);
          add(f.expectation, current);
        }
        return out;
      }),
    );
    return perFeature.flat();
  }

  /**
   * Up to three metrics that may tell whether a feature with this title works, each with this week's
   * value (through the telemetry; a failure leaves the value out, never the suggestion) and a target.
   */
  async suggest(team: string, title: string, featureId?: string, viewer?: string): Promise<Offer> {
    const [{ candidates, index, unavailable }, past] = await Promise.all([
      this.candidates(),
      this.past(team, featureId, viewer),
    ]);
    const ranked = rankMetrics(title, { candidates: index, past });
    const now = this.deps.now();
    const metrics = await Promise.all(
      ranked.map(async (s): Promise<OfferedMetric> => {
        let value: number | null = null;
        let valueError: string | undefined;
        const parsed = parseMetric(s.metric, this.deps.telemetry.isCatalogName);
        if (!parsed.ok) valueError = 'not a metric the grammar reads';
        else {
          try {
            const m = await withTimeout(
              this.deps.telemetry.valueOver(parsed.value.metric, WEEK, now),
              this.timeoutMs,
              'the telemetry',
            );
            value = m.value;
          } catch (err) {
            valueError = (err as Error).message;
            this.deps.log.warn({ metric: s.metric, err: valueError }, 'suggestion without a value');
          }
        }
        const judgedLike = s.similar.filter((p) => p.metric.split('{')[0] === s.metric.split('{')[0]);
        return {
          ...s,
          value,
          ...(valueError ? { valueError } : {}),
          target: suggestTarget(valueError ? null : value, judgedLike),
        };
      }),
    );
    return {
      title,
      ...(featureId ? { featureId } : {}),
      metrics,
      searched: { metrics: candidates.length, features: new Set(past.map((p) => p.id)).size, unavailable },
    };
  }
}
