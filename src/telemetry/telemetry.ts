import type { DateTime, Duration } from 'luxon';
import { type CatalogEntry, catalogMetricRef, findCatalogEntry } from '../domain/catalog';
import type { MetricRef } from '../domain/model';
import type { MeasurementCache } from './measurement-cache';
import { type Measurement, type Series, TelemetryQueryError, type TelemetrySource } from './types';

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
  ) {
    for (const source of sources) this.sources.set(source.name, source);
  }

  isCatalogName = (name: string): boolean => findCatalogEntry(this.catalog, name) !== undefined;

  unitOf(metric: MetricRef): string | undefined {
    return metric.source === 'catalog' ? findCatalogEntry(this.catalog, metric.name)?.unit : undefined;
  }

  /** Why this metric cannot be measured here (its source is not configured), or null. */
  whyUnmeasurable(metric: MetricRef): string | null {
    try {
      this.resolve(metric);
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

  /** The metric over `window` ending at `at`; shared with every other caller asking the same. */
  valueOver(metric: MetricRef, window: Duration, at: DateTime): Promise<Measurement> {
    const r = this.resolve(metric);
    const call = () => r.source.valueOver(r.metric, window, at);
    if (!this.cache) return call();
    return this.cache.get([r.source.name, r.metric, window.as('seconds'), at.toMillis()], call);
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

  source(name: SourceName): TelemetrySource | undefined {
    return this.sources.get(name);
  }

  /** Everything that can be measured: catalog names first, then each source's own names. */
  async list(
    search?: string,
  ): Promise<{ catalog: CatalogEntry[]; bySource: { source: string; names: string[]; error?: string }[] }> {
    const needle = search?.toLowerCase();
    const catalog = this.catalog.filter(
      (e) => !needle || e.name.includes(needle) || e.description.toLowerCase().includes(needle),
    );
    const bySource = await Promise.all(
      [...this.sources.values()].map(async (s) => {
        try {
          return { source: s.name, names: await s.list(search) };
        } catch (err) {
          return { source: s.name, names: [], error: (err as Error).message };
        }
      }),
    );
    return { catalog, bySource };
  }
}
