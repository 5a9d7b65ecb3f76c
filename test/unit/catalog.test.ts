import { join } from 'node:path';
import { parse } from 'yaml';
import {
  type CatalogEntry,
  catalogMetricRef,
  findCatalogEntry,
  parseHoneycombCalculation,
  validateCatalog,
} from '../../src/domain/catalog';
import { CatalogError, loadCatalog, loadCatalogFromEnv } from '../../src/telemetry/load-catalog';

const FIXTURE = join(__dirname, '..', 'fixtures', 'metrics.yml');

function errorsOf(yamlText: string): string[] {
  const result = validateCatalog(parse(yamlText));
  if (!('errors' in result)) throw new Error(`expected errors, got ${JSON.stringify(result)}`);
  return result.errors;
}

describe('loadCatalog', () => {
  it('reads the fixture into entries', async () => {
    const entries = await loadCatalog(FIXTURE);
    expect(entries.map((e) => e.name)).toEqual([
      'bulk_exports',
      'checkout_p99_ms',
      'weekly_exporters',
      'onboarding_completed',
      'csv_downloads',
      'search_users',
    ]);
    expect(findCatalogEntry(entries, 'weekly_exporters')).toEqual({
      name: 'weekly_exporters',
      description: 'People who exported a report',
      source: 'posthog',
      event: 'report exported',
      math: 'unique_users',
      unit: 'people',
    });
  });

  it('says when the file is missing', async () => {
    await expect(loadCatalog('/nonexistent/metrics.yml')).rejects.toThrow(/no such file/);
  });

  it('reads DONEDONE_METRICS_FILE, and gives an empty catalog when it is unset', async () => {
    expect(await loadCatalogFromEnv({})).toEqual([]);
    expect(await loadCatalogFromEnv({ DONEDONE_METRICS_FILE: FIXTURE })).toHaveLength(6);
  });

  it('lists every problem of a bad file in one error', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'catalog-'));
    const file = join(dir, 'bad.yml');
    await writeFile(file, 'metrics:\n  - name: A\n    source: datadog\n');
    const err = await loadCatalog(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CatalogError);
    expect((err as CatalogError).problems).toEqual([
      'metrics[0] "A": name must be snake_case, like weekly_exports',
      'metrics[0] "A": description is required: say what the number means',
      'metrics[0] "A": source must be one of prometheus, posthog, honeycomb',
    ]);
    await writeFile(file, 'metrics: [ {name: x\n');
    await expect(loadCatalog(file)).rejects.toThrow(/not valid YAML/);
  });
});

describe('validateCatalog', () => {
  it('needs a metrics list', () => {
    expect(validateCatalog(null)).toEqual({ errors: [expect.stringContaining('"metrics" list')] });
    expect(validateCatalog({ metrics: 'x' })).toEqual({
      errors: ['"metrics" must be a list of metric entries'],
    });
    expect(validateCatalog({ metrics: [] })).toEqual({ entries: [] });
  });

  it('names the entry and the problem for an unknown source', () => {
    const errors = errorsOf(`
metrics:
  - {name: a, description: A, source: prometheus, query: "sum(increase(a_total[$window]))"}
  - {name: b, description: B, source: posthog, event: b}
  - {name: weekly_exporters, description: C, source: mixpanel, event: c}
`);
    expect(errors).toEqual([
      'metrics[2] "weekly_exporters": source must be one of prometheus, posthog, honeycomb',
    ]);
  });

  it('rejects names that are not snake_case, and duplicates', () => {
    const errors = errorsOf(`
metrics:
  - {name: Weekly-Exports, description: A, source: posthog, event: a}
  - {name: b, description: B, source: posthog, event: b}
  - {name: b, description: B again, source: posthog, event: b2}
  - {description: no name, source: posthog, event: c}
  - just a string
`);
    expect(errors).toEqual([
      'metrics[0] "Weekly-Exports": name must be snake_case, like weekly_exports',
      'metrics[2] "b": name is already used by metrics[1]',
      'metrics[3]: name is required',
      'metrics[4]: must be a mapping with name, description, source',
    ]);
  });

  it('checks prometheus queries for $window', () => {
    const errors = errorsOf(`
metrics:
  - {name: a, description: A, source: prometheus, query: "sum(increase(a_total[7d]))"}
  - {name: b, description: B, source: prometheus}
`);
    expect(errors).toEqual([
      'metrics[0] "a": query must contain $window where the range goes, e.g. sum(increase(exports_total[$window]))',
      'metrics[1] "b": query is required: PromQL with $window where the range goes',
    ]);
  });

  it('checks posthog event and math, and fields of other sources', () => {
    const errors = errorsOf(`
metrics:
  - {name: a, description: A, source: posthog, math: sum}
  - {name: b, description: B, source: posthog, event: b, query: "x[$window]"}
`);
    expect(errors).toEqual([
      'metrics[0] "a": event is required: the PostHog event name',
      'metrics[0] "a": math must be count or unique_users',
      'metrics[1] "b": "query" is not a field of a posthog metric (fields: name, description, source, unit, event, math)',
    ]);
  });

  it('checks honeycomb event, filters and calculation', () => {
    const errors = errorsOf(`
metrics:
  - {name: a, description: A, source: honeycomb}
  - {name: b, description: B, source: honeycomb, event: b, calculation: "P99"}
  - {name: c, description: C, source: honeycomb, event: c, calculation: "MEDIAN(duration_ms)"}
  - {name: d, description: D, source: honeycomb, event: d, calculation: "COUNT(user.id)"}
  - name: e
    description: E
    source: honeycomb
    filters:
      - {column: route, op: "~=", value: x}
      - {op: "=", value: x}
      - {column: route, op: "=", value: [1, 2]}
      - {column: route, op: exists, value: x}
`);
    expect(errors).toEqual([
      'metrics[0] "a": event or filters is required: which events to measure',
      'metrics[1] "b": calculation "P99": P99 needs a column, e.g. P99(duration_ms)',
      expect.stringMatching(
        /^metrics\[2\] "c": calculation "MEDIAN\(duration_ms\)": MEDIAN is not one of COUNT, /,
      ),
      'metrics[3] "d": calculation "COUNT(user.id)": COUNT takes no column; write COUNT',
      expect.stringMatching(/^metrics\[4\] "e": filters\[0\]: op must be one of = != > /),
      'metrics[4] "e": filters[1]: column is required',
      'metrics[4] "e": filters[2]: value must be a string, number or boolean',
      'metrics[4] "e": filters[3]: exists takes no value',
    ]);
  });
});

describe('parseHoneycombCalculation', () => {
  it('splits op and column', () => {
    expect(parseHoneycombCalculation('COUNT')).toEqual({ op: 'COUNT' });
    expect(parseHoneycombCalculation('count_distinct( user.id )')).toEqual({
      op: 'COUNT_DISTINCT',
      column: 'user.id',
    });
    expect(parseHoneycombCalculation('P99(duration_ms)')).toEqual({ op: 'P99', column: 'duration_ms' });
    expect(parseHoneycombCalculation('COUNT(')).toHaveProperty('error');
  });
});

describe('catalogMetricRef', () => {
  it('maps each source to the MetricRef its client reads', async () => {
    const entries = await loadCatalog(FIXTURE);
    const ref = (name: string) => catalogMetricRef(findCatalogEntry(entries, name) as CatalogEntry);
    expect(ref('bulk_exports')).toEqual({
      source: 'prometheus',
      name: 'bulk_exports',
      matchers: [],
      promql: 'sum(increase(bulk_export_total{status="ok"}[$window]))',
    });
    expect(ref('weekly_exporters')).toEqual({ source: 'posthog', event: 'report exported', math: 'unique' });
    expect(ref('onboarding_completed')).toEqual({
      source: 'posthog',
      event: 'onboarding_completed',
      math: 'total',
    });
    expect(ref('search_users')).toEqual({
      source: 'honeycomb',
      event: 'search.performed',
      calculation: { op: 'COUNT_DISTINCT', column: 'user.id' },
    });
    expect(ref('csv_downloads')).toEqual({
      source: 'honeycomb',
      event: '',
      calculation: { op: 'COUNT' },
      filters: [
        { column: 'http.route', op: '=', value: '/api/exports/:id/csv' },
        { column: 'http.status_code', op: '<', value: 400 },
      ],
    });
  });
});
