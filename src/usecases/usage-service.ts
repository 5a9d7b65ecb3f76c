import { type DateTime, Duration } from 'luxon';
import type { Logger } from 'pino';
import type { Feature } from '../domain/model';
import { lastTwelveMonths, type MonthsUsed, type MonthValue, monthsUsed } from '../domain/months-used';
import type { Telemetry } from '../telemetry/telemetry';
import { TelemetryQueryError } from '../telemetry/types';
import type { Outcome } from './feature-service';

/** A month shorter than this so far (the first minute of a month) has no data yet rather than a zero window. */
const MIN_WINDOW_SECONDS = 60;

export interface UsageDeps {
  telemetry: Telemetry;
  log?: Logger;
  /** Telemetry calls in flight at once across one `usageFor` run (default 4). */
  concurrency?: number;
  /** The workspace's zone (DONEDONE_TIMEZONE), for features launched before zones were recorded. */
  zone?: string;
}

/**
 * "Used in N of the last 12 months": the feature's expectation metric aggregated over each calendar month
 * (its exact length, not 30 days: a counter's month is `sum(increase(x[<month length>]))` at the month's end),
 * one telemetry call a month. A month is used when the value is above zero. The telemetry's measurement cache
 * shares the calls between a digest, the App Home and `/donedone usage` asked at the same time.
 */
export class UsageService {
  constructor(private readonly deps: UsageDeps) {}

  /** The months used of one feature; an error a person can act on when it cannot be measured. */
  async monthsUsedFor(feature: Feature, now: DateTime): Promise<Outcome<MonthsUsed>> {
    const metric = feature.expectation?.metric;
    if (!metric) {
      return {
        ok: false,
        error: `${feature.id} has no expectation yet, so there is no metric to count months by. Add one: \`/donedone expect ${feature.id} bulk_export_total >= 200 per week\``,
      };
    }
    const why = this.deps.telemetry.whyUnmeasurable(metric);
    if (why) return { ok: false, error: `${why}.` };
    // Calendar months as the workspace reads them (PRODUCT.md: months used are in its zone).
    now = now.setZone(feature.zone ?? this.deps.zone ?? 'UTC');
    try {
      const values = await Promise.all(
        lastTwelveMonths(now).map(async ({ start, end }): Promise<MonthValue> => {
          const seconds = Math.floor(end.diff(start).as('seconds'));
          if (seconds < MIN_WINDOW_SECONDS) return { month: start, value: null };
          try {
            const m = await this.deps.telemetry.valueOver(metric, Duration.fromObject({ seconds }), end);
            return { month: start, value: m.value };
          } catch (err) {
            // A source that cannot answer for so long a window (Honeycomb keeps 7 days) has no data for it.
            if (err instanceof TelemetryQueryError) return { month: start, value: null };
            throw err;
          }
        }),
      );
      return { ok: true, value: monthsUsed(values, now) };
    } catch (err) {
      this.deps.log?.warn({ feature: feature.id, err }, 'months used unavailable');
      return {
        ok: false,
        error: `The telemetry could not be reached (${(err as Error).message}); try again in a few minutes.`,
      };
    }
  }

  /**
   * Months-used text ("used in 4 of the last 12 months") for many features, at most `concurrency` at a time,
   * for digests and the App Home. Features that fail, or that are still waiting when `budgetMs` runs out, are
   * left out: a digest without a usage line is better than a late digest.
   */
  async usageFor(
    features: readonly Feature[],
    now: DateTime,
    opts: { budgetMs?: number } = {},
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const queue = features.filter((f) => f.expectation);
    const deadline = Date.now() + (opts.budgetMs ?? 10_000);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length && Date.now() < deadline) {
        const feature = queue[next++]!;
        const result = await this.monthsUsedFor(feature, now);
        if (result.ok) out.set(feature.id, result.value.text);
      }
    };
    const workers = Array.from({ length: Math.min(this.deps.concurrency ?? 4, queue.length) }, worker);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    await Promise.race([Promise.all(workers), timeout]);
    if (timer) clearTimeout(timer);
    return new Map(out);
  }
}
