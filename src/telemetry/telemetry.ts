import type { DateTime, Duration } from 'luxon';
import { type CatalogEntry, catalogMetricRef, findCatalogEntry } from '../domain/catalog';
import type { Expectation, MetricRef, WindowUnit } from '../domain/model';
import { isCumulative } from '../domain/verdict';
import type { MeasurementBatches } from './measurement-batches';
import { type MeasurementCache, measurementKey } from './measurement-cache';
import {
  type FirstUseRange,
  type FirstUseSearch,
  type Measurement,
  type Series,
  TelemetryQueryError,
  type TelemetrySource,
} from './types';

type SourceName = TelemetrySource['name'];

const SETTINGS: Record<SourceName, string> = {
  prometheus: 'PROMETHEUS_URL',
  posthog: 'POSTHOG_URL, POSTHOG_API_KEY and POSTHOG_PROJECT_ID',
  honeycomb: 'HONEYCOMB_API_KEY and HONEYCOMB_DATASET',
};

/**
 * All configured telemetry sources and the metric catalog behind one door: it resolves a
 * catalog name to its source's query, and routes each call to the right client.
 */
export class Telemetry {
  private readonly sources = new Map<SourceName, TelemetrySource>();

  constructor(
    sources: TelemetrySource[],
    readonly catalog: readonly CatalogEntry[] = [],
    private readonly cache?: MeasurementCache,
    /** Measurements due together, made together (sources that take many metrics a query). */
    private readonly batches?: MeasurementBatches,
  ) {
    for (const source of sources) this.sources.set(source.name, source);
  }

  isCatalogName = (name: string): boolean => findCatalogEntry(this.catalog, name) !== undefined;

  unitOf(metric: MetricRef): string | undefined {
    return metric.source === 'catalog' ? findCatalogEntry(this.catalog, metric.name)?.unit : undefined;
  }

  /** Whether the metric is a count over its window (see the domain's `isCumulative`), catalog names resolved. */
  isCumulative(metric: MetricRef, unit?: Expectation['unit']): boolean {
    if (metric.source !== 'catalog') return isCumulative(metric, unit);
    const entry = findCatalogEntry(this.catalog, metric.name);
    return entry ? isCumulative(catalogMetricRef(entry), unit) : true;
  }

  /** Why this metric cannot be measured here (its source is not configured, or cannot answer the window), or null. */
  whyUnmeasurable(metric: MetricRef, window?: WindowUnit): string | null {
    try {
      const { source } = this.resolve(metric);
      if (source.name === 'honeycomb' && window === 'month') {
        return 'Honeycomb answers query results only for the last 7 days, so a per month window cannot be measured there: use per week or per day';
      }
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  resolve(metric: MetricRef): { source: TelemetrySource; metric: MetricRef } {
    let resolved = metric;
    if (metric.source === 'catalog') {
      const entry = findCatalogEntry(this.catalog, metric.name);
      if (!entry) throw new TelemetryQueryError('catalog', `\`${metric.name}\` is not in the metric catalog`);
      resolved = catalogMetricRef(entry);
    }
    const name = resolved.source as SourceName;
    const source = this.sources.get(name);
    if (!source) {
      throw new TelemetryQueryError(
        name,
        `${name} is not configured: set ${SETTINGS[name]} to measure this metric`,
      );
    }
    return { source, metric: resolved };
  }

  /**
   * The metric over `window` ending at `at`; shared with every other caller asking the same. A
   * source that measures many metrics a query (PostHog) measures, with this one, every metric due
   * over the same window at the same time (see `due`).
   */
  valueOver(metric: MetricRef, window: Duration, at: DateTime): Promise<Measurement> {
    const r = this.resolve(metric);
    if (!this.cache) return r.source.valueOver(r.metric, window, at);
    const { source } = r;
    const batches = this.batches;
    const call =
      batches && source.valuesOver
        ? () =>
            batches.measure(
              source as TelemetrySource & Required<Pick<TelemetrySource, 'valuesOver'>>,
              r.metric,
              window,
              at,
            )
        : () => source.valueOver(r.metric, window, at);
    return this.cache.get(measurementKey(source.name, r.metric, window, at), call);
  }

  /**
   * Says that `metric` will be measured over `window` at `at` (a check is scheduled), so that the
   * first of the checks due then measures it with the others. Nothing for sources measured one
   * metric a query, or a metric that cannot be measured (its check will say why).
   */
  async due(metric: MetricRef, window: Duration, at: DateTime): Promise<void> {
    if (!this.batches) return;
    let r: ReturnType<Telemetry['resolve']>;
    try {
      r = this.resolve(metric);
    } catch {
      return;
    }
    if (r.source.valuesOver) await this.batches.due(r.source.name, r.metric, window, at);
  }

  series(
    metric: MetricRef,
    window: Duration,
    start: DateTime,
    end: DateTime,
    step: Duration,
  ): Promise<Series> {
    const r = this.resolve(metric);
    return r.source.series(r.metric, window, start, end, step);
  }

  /**
   * The first launch-anchored hour at or after `from` in which the metric was above zero, and
   * how far the search got (`scannedTo`: store it and ask again from there). See
   * `TelemetrySource.firstUseAfter`. Failures throw `TelemetryUnavailableError`, never "no use".
   */
  firstUseAfter(metric: MetricRef, range: FirstUseRange): Promise<FirstUseSearch> {
    const r = this.resolve(metric);
    return r.source.firstUseAfter(r.metric, range);
  }

  source(name: SourceName): TelemetrySource | undefined {
    return this.sources.get(name);
  }

  /**
   * Everything that can be measured: catalog names first, then each source's own names. Each
   * source's full listing is kept for a minute, since the modal asks on every keystroke and
   * some listings cost a query (Honeycomb allows 10 query results a minute).
   */
  async list(
    search?: string,
    opts: { timeoutMs?: number } = {},
  ): Promise<{ catalog: CatalogEntry[]; bySource: { source: string; names: string[]; error?: string }[] }> {
    const needle = search?.trim().toLowerCase();
    const catalog = this.catalog.filter(
      (e) => !needle || e.name.includes(needle) || e.description.toLowerCase().includes(needle),
    );
    const bySource = await Promise.all(
      [...this.sources.values()].map(async (s) => {
        try {
          const names = await this.listingOf(s, opts.timeoutMs);
          return {
            source: s.name,
            names: needle ? names.filter((n) => n.toLowerCase().includes(needle)) : names,
          };
        } catch (err) {
          return { source: s.name, names: [], error: (err as Error).message };
        }
      }),
    );
    return { catalog, bySource };
  }

  private readonly listings = new Map<string, { at: number; names: Promise<string[]> }>();

  private listingOf(source: TelemetrySource, timeoutMs?: number): Promise<string[]> {
    const cached = this.listings.get(source.name);
    let names = cached && Date.now() - cached.at < 60_000 ? cached.names : undefined;
    if (!names) {
      names = source.list();
      this.listings.set(source.name, { at: Date.now(), names });
      names.catch(() => this.listings.delete(source.name));
    }
    if (!timeoutMs) return names;
    return Promise.race([
      names,
      new Promise<string[]>((_, reject) =>
        setTimeout(() => reject(new Error(`${source.name} did not list in time`)), timeoutMs).unref(),
      ),
    ]);
  }
}
