import { type DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import { type CanaryJudgement, DEFAULT_MIN_POINTS, judgeCanary } from '../domain/canary-stats';
import type { Feature } from '../domain/model';
import { type CanarySpec, canarySpecFrom, isRated } from '../domain/parse-canary';
import type { FeatureStore } from '../store/feature-store';
import type { PrometheusClient } from '../telemetry/prometheus-client';
import { promDuration } from '../telemetry/promql';
import type { Telemetry } from '../telemetry/telemetry';
import { TelemetryQueryError, TelemetryUnavailableError } from '../telemetry/types';

/** Kayenta's Mann-Whitney classifier judges at 98% confidence. */
export const CANARY_CONFIDENCE = 0.98;
/** A shift up to 10% on the bad side is tolerated. */
export const CANARY_TOLERANCE = 0.1;
/**
 * One point a minute from `rate(…[1m])`: the windows do not overlap, so the points are as close to
 * independent as the data allows (overlapping windows would repeat samples and overstate confidence).
 */
export const CANARY_STEP_SECONDS = 60;

export type Judged = Extract<CanaryJudgement, { kind: 'judged' }>;

export interface NodeSeries {
  /** The label's value, e.g. `n1`. */
  value: string;
  /** Per-minute rate every step; null where the series had no point. */
  points: { at: number; value: number | null }[];
  /** Median per-minute rate over the window; null without points. */
  median: number | null;
}

export interface CanaryResult {
  spec: CanarySpec;
  judgement: Judged;
  canary: NodeSeries;
  /** The other values of the label: the baseline's members. */
  others: NodeSeries[];
  /** The baseline as judged: at each step, the median of the other nodes' rates. */
  baseline: { at: number; value: number }[];
  start: DateTime;
  end: DateTime;
  query: string;
  confidence: number;
  tolerance: number;
}

export type CanaryFailureReason =
  | 'not-configured'
  | 'unavailable'
  | 'bad-query'
  | 'no-metric'
  | 'no-label'
  | 'no-value'
  | 'no-baseline'
  | 'insufficient';

export type CanaryOutcome =
  | { ok: true; result: CanaryResult }
  | { ok: false; reason: CanaryFailureReason; message: string; values?: string[] };

export interface CanaryServiceDeps {
  telemetry: Telemetry;
  store: FeatureStore;
  log: Logger;
  now: () => DateTime;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function finite(points: { value: number | null }[]): number[] {
  return points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
}

function listValues(values: string[], max = 10): string {
  const shown = values.slice(0, max).map((v) => `\`${v}\``);
  return values.length > max ? `${shown.join(', ')} and ${values.length - max} more` : shown.join(', ');
}

/**
 * Judges one value of a label (a canary node, pod or cohort) against the other values of the same
 * label over a window, as Netflix/Spinnaker Kayenta does: two samples of per-minute rates, the
 * Mann-Whitney test at 98% and the Hodges-Lehmann shift (see `judgeCanary`).
 *
 * The baseline is one series, as Kayenta compares a canary with a baseline server group reduced to one
 * time series: at each minute, the median of the other nodes' rates. So the baseline is "a typical
 * node" (comparable with one canary node, unlike their sum), one odd peer does not move it, and
 * both samples have one point a minute (pooling every node's points would count each minute several
 * times and overstate the confidence).
 */
export class CanaryService {
  constructor(private readonly deps: CanaryServiceDeps) {}

  /**
   * The PromQL sent: a counter's per-minute rate by the label; a gauge (a guardrail's ratio or
   * latency, by the expectation rule) averaged each minute by the label. Metric and label names
   * are validated names.
   */
  static query(spec: Pick<CanarySpec, 'metric' | 'label'>): string {
    const range = promDuration(CANARY_STEP_SECONDS);
    if (!isRated(spec.metric)) {
      return `avg by (${spec.label}) (avg_over_time(${spec.metric}{${spec.label}!=""}[${range}]))`;
    }
    return `sum by (${spec.label}) (rate(${spec.metric}{${spec.label}!=""}[${range}])) * 60`;
  }

  async judge(spec: CanarySpec): Promise<CanaryOutcome> {
    const prometheus = this.deps.telemetry.source('prometheus') as PrometheusClient | undefined;
    if (!prometheus) {
      return {
        ok: false,
        reason: 'not-configured',
        message: 'Prometheus is not configured: set PROMETHEUS_URL to judge canaries.',
      };
    }
    // Whole minutes, so two judgements in the same minute read the same points.
    const end = this.deps.now().toUTC().startOf('minute');
    const start = end.minus({ seconds: spec.overSeconds });
    const step = Duration.fromObject({ seconds: CANARY_STEP_SECONDS });
    const query = CanaryService.query(spec);
    try {
      const series = await prometheus.rangeBySeries(query, start, end, step);
      if (series.length === 0) return await this.diagnose(prometheus, spec, end, step);
      const nodes: NodeSeries[] = series
        .map((s) => ({
          value: s.labels[spec.label] ?? '',
          points: s.values,
          median: median(finite(s.values)),
        }))
        .sort((a, b) => a.value.localeCompare(b.value));
      const canary = nodes.find((n) => n.value === spec.value);
      const others = nodes.filter((n) => n.value !== spec.value);
      if (!canary) {
        const values = nodes.map((n) => n.value);
        return {
          ok: false,
          reason: 'no-value',
          values,
          message: `No series of \`${spec.metric}\` has \`${spec.label}="${spec.value}"\` in the last ${spec.over}. The values seen are ${listValues(values)}.`,
        };
      }
      if (others.length === 0) {
        return {
          ok: false,
          reason: 'no-baseline',
          message: `\`${spec.metric}\` has only \`${spec.label}="${spec.value}"\` in the last ${spec.over}: there are no other values of \`${spec.label}\` to compare it with.`,
        };
      }
      const baseline = perStepMedian(others);
      const judgement = judgeCanary(
        finite(canary.points),
        baseline.map((p) => p.value),
        {
          confidence: CANARY_CONFIDENCE,
          tolerance: CANARY_TOLERANCE,
          higherIsBetter: spec.higherIsBetter,
          minPoints: DEFAULT_MIN_POINTS,
        },
      );
      if (judgement.kind === 'insufficient') {
        return {
          ok: false,
          reason: 'insufficient',
          message: `Not enough data to judge: ${judgement.reason} (one a minute). Judge over a longer window, like \`over 1h\`.`,
        };
      }
      return {
        ok: true,
        result: {
          spec,
          judgement,
          canary,
          others,
          baseline,
          start,
          end,
          query,
          confidence: CANARY_CONFIDENCE,
          tolerance: CANARY_TOLERANCE,
        },
      };
    } catch (err) {
      if (err instanceof TelemetryUnavailableError) {
        this.deps.log.warn({ err }, 'canary: prometheus unavailable');
        return {
          ok: false,
          reason: 'unavailable',
          message: `Prometheus could not be reached (${err.message}); no judgement was made. Try again in a minute.`,
        };
      }
      if (err instanceof TelemetryQueryError) {
        return { ok: false, reason: 'bad-query', message: `Prometheus refused the query: ${err.message}.` };
      }
      throw err;
    }
  }

  /** Why the rate query came back empty: no such metric, no such label, or too few samples for a rate. */
  private async diagnose(
    prometheus: PrometheusClient,
    spec: CanarySpec,
    end: DateTime,
    step: Duration,
  ): Promise<CanaryOutcome> {
    const range = promDuration(spec.overSeconds);
    const found = await prometheus.rangeBySeries(
      `count by (${spec.label}) (count_over_time(${spec.metric}[${range}]))`,
      end,
      end,
      step,
    );
    if (found.length === 0) {
      return {
        ok: false,
        reason: 'no-metric',
        message: `Prometheus has no series called \`${spec.metric}\` in the last ${spec.over}. Is the name right? \`/donedone metrics ${spec.metric.slice(0, 20)}\` lists what can be measured.`,
      };
    }
    const values = found.map((s) => s.labels[spec.label]).filter((v): v is string => !!v);
    if (values.length === 0) {
      return {
        ok: false,
        reason: 'no-label',
        message: `\`${spec.metric}\` has no label \`${spec.label}\` in the last ${spec.over}, so there is nothing to split it by. Name a label its series carry, like \`node\`, \`pod\` or \`instance\`.`,
      };
    }
    return {
      ok: false,
      reason: 'insufficient',
      message: `\`${spec.metric}\` has too few samples for a per-minute rate in the last ${spec.over} (fewer than two a minute); no judgement was made.`,
    };
  }

  /** Attaches a canary to a feature (replacing any); null when there is no such feature. */
  async attach(team: string, id: string, spec: CanarySpec): Promise<Feature | null> {
    const canary: NonNullable<Feature['canary']> = {
      metric: spec.metric,
      label: spec.label,
      value: spec.value,
      ...(spec.higherIsBetter ? {} : { higherIsBetter: false }),
    };
    return this.deps.store.update(team, id, (f) => ({ ...f, canary }));
  }

  /** The canary a feature carries, as a spec over `over` (default 1h); null when it carries none. */
  static specOf(feature: Feature, over?: string): CanarySpec | null {
    const stored = feature.canary;
    if (!stored) return null;
    const spec = canarySpecFrom({
      metric: stored.metric,
      label: stored.label,
      value: stored.value,
      ...(over ? { over } : {}),
      higherIsBetter: stored.higherIsBetter ?? true,
    });
    return spec.ok ? spec.value : null;
  }
}

/** At each step where at least one other node has a point, the median of their rates. */
function perStepMedian(others: NodeSeries[]): { at: number; value: number }[] {
  const byTime = new Map<number, number[]>();
  for (const node of others) {
    for (const p of node.points) {
      if (p.value === null || !Number.isFinite(p.value)) continue;
      const list = byTime.get(p.at);
      if (list) list.push(p.value);
      else byTime.set(p.at, [p.value]);
    }
  }
  return [...byTime.entries()]
    .sort(([a], [b]) => a - b)
    .map(([at, values]) => ({ at, value: median(values)! }));
}
