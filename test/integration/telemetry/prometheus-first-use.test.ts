import { DateTime } from 'luxon';
import type { MetricRef } from '../../../src/domain/model';
import { PrometheusClient } from '../../../src/telemetry/prometheus-client';
import { Telemetry } from '../../../src/telemetry/telemetry';
import { TelemetryUnavailableError } from '../../../src/telemetry/types';
import type { GeneratedSeries } from '../../fixtures/history';
import { type RunningPrometheus, startPrometheus, stopPrometheus } from '../../support/prometheus';

/**
 * First use over two months against a real Prometheus with its own known history: a counter
 * and a gauge sampled every 5 minutes on the clock's minutes, and a launch at 10:30, so
 * launch hours (10:30 to 11:30) are not the clock's.
 */
const HOUR_MS = 3_600_000;
const STEP_MS = 5 * 60_000;
const LAUNCH = DateTime.fromISO('2026-03-02T10:30:00Z', { zone: 'utc' });
const HISTORY_FROM = LAUNCH.minus({ days: 3 }).startOf('day');
const HISTORY_TO = LAUNCH.plus({ days: 62 });
const SPAN_END = LAUNCH.plus({ days: 60 });
/** The counter first moves in the 5 minutes ending at this sample: 45 days, 3 h 40 min after launch. */
const FIRST_INCREASE = LAUNCH.plus({ days: 45, hours: 3, minutes: 40 });
/** The gauge is first above zero at this sample. */
const GAUGE_RISES = LAUNCH.plus({ days: 20, hours: 7, minutes: 15 });

function samples(value: (ms: number) => number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = HISTORY_FROM.toMillis(); t <= HISTORY_TO.toMillis(); t += STEP_MS)
    out.push([t / 1000, value(t)]);
  return out;
}

function history(): GeneratedSeries[] {
  let exports = 0;
  return [
    {
      name: 'report_export_total',
      labels: { app: 'web' },
      samples: samples((t) => {
        if (t >= FIRST_INCREASE.toMillis()) exports += 3;
        return exports;
      }),
    },
    { name: 'report_print_total', labels: { app: 'web' }, samples: samples(() => 7) },
    {
      name: 'export_queue_depth',
      labels: { app: 'web' },
      samples: samples((t) => (t >= GAUGE_RISES.toMillis() ? 4 : 0)),
    },
  ];
}

/** The start of the launch hour in which the value changed in the 5 minutes up to `sample`. */
function launchHourOfChangeAt(sample: DateTime): number {
  const changed = sample.toMillis() - 1;
  return LAUNCH.toMillis() + Math.floor((changed - LAUNCH.toMillis()) / HOUR_MS) * HOUR_MS;
}

let prometheus: RunningPrometheus;
let ranges: URLSearchParams[];

function client(maxPointsPerQuery?: number): PrometheusClient {
  return new PrometheusClient({
    baseUrl: prometheus.url,
    ...(maxPointsPerQuery ? { maxPointsPerQuery } : {}),
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname === '/api/v1/query_range') ranges.push(url.searchParams);
      return fetch(input, init);
    },
  });
}

const exportsTotal: MetricRef = { source: 'prometheus', name: 'report_export_total', matchers: [] };

beforeAll(async () => {
  prometheus = await startPrometheus({ history: history() });
});
afterAll(() => stopPrometheus(prometheus));
beforeEach(() => {
  ranges = [];
});

describe('PrometheusClient.firstUseAfter against a real Prometheus', () => {
  it('finds a counter’s first use 45 days after a 10:30 launch, as the start of that launch hour', async () => {
    const found = await client().firstUseAfter(exportsTotal, { launch: LAUNCH, from: LAUNCH, to: SPAN_END });
    const expected = launchHourOfChangeAt(FIRST_INCREASE);
    expect(found.at?.toMillis()).toBe(expected);
    expect(found.at?.toISO()).toMatch(/T\d\d:30:00\.000Z$/);
    expect(found.scannedTo.toMillis()).toBe(expected + HOUR_MS);
    expect(found.unsearchable).toBeUndefined();
    expect(ranges).toHaveLength(1);
    expect(ranges[0]?.get('query')).toBe('sum(increase(report_export_total[1h]))');
  });

  it('splits the span into range queries under the point limit, and stops at the chunk with first use', async () => {
    const limit = 500;
    const found = await client(limit).firstUseAfter(exportsTotal, {
      launch: LAUNCH,
      from: LAUNCH,
      to: SPAN_END,
    });
    expect(found.at?.toMillis()).toBe(launchHourOfChangeAt(FIRST_INCREASE));
    // 60 days are 1440 hours; first use is in hour 1083, so in the third chunk of 500.
    const hourOfUse = (launchHourOfChangeAt(FIRST_INCREASE) - LAUNCH.toMillis()) / HOUR_MS;
    expect(ranges).toHaveLength(Math.floor(hourOfUse / limit) + 1);
    let expectedStart = LAUNCH.toMillis() / 1000 + 3600;
    for (const r of ranges) {
      const start = Number(r.get('start'));
      const end = Number(r.get('end'));
      expect(Number(r.get('step'))).toBe(3600);
      expect(start).toBe(expectedStart);
      expect((end - start) / 3600 + 1).toBeLessThanOrEqual(limit);
      expectedStart = end + 3600;
    }
  });

  it('looks over the whole span in chunks and answers null for a counter that never moves', async () => {
    const found = await client(500).firstUseAfter(
      {
        source: 'prometheus',
        name: 'report_print_total',
        matchers: [{ name: 'app', op: '=', value: 'web' }],
      },
      { launch: LAUNCH, from: LAUNCH, to: SPAN_END },
    );
    expect(found).toEqual({ at: null, scannedTo: SPAN_END });
    expect(ranges).toHaveLength(Math.ceil(SPAN_END.diff(LAUNCH).as('hours') / 500));
    expect(Number(ranges.at(-1)?.get('end'))).toBe(SPAN_END.toSeconds());
  });

  it('judges whole hours only: an hour not yet over is left for the next search, from the cursor', async () => {
    const hour = launchHourOfChangeAt(FIRST_INCREASE);
    const early = await client().firstUseAfter(exportsTotal, {
      launch: LAUNCH,
      from: LAUNCH,
      to: DateTime.fromMillis(hour + 50 * 60_000, { zone: 'utc' }),
    });
    expect(early.at).toBeNull();
    expect(early.scannedTo.toMillis()).toBe(hour);
    const next = await client().firstUseAfter(exportsTotal, {
      launch: LAUNCH,
      from: early.scannedTo,
      to: SPAN_END,
    });
    expect(next.at?.toMillis()).toBe(hour);
    expect(Number(ranges.at(-1)?.get('start'))).toBe(hour / 1000 + 3600);
  });

  it('finds a gauge’s first hour above zero (its average over the hour), and a catalog query’s', async () => {
    const gauge = await client().firstUseAfter(
      { source: 'prometheus', name: 'export_queue_depth', matchers: [] },
      { launch: LAUNCH, from: LAUNCH, to: SPAN_END },
    );
    expect(ranges[0]?.get('query')).toBe('avg(avg_over_time(export_queue_depth[1h]))');
    // The gauge is 4 from its rising sample on: the hour holding that sample is the first above zero.
    expect(gauge.at?.toMillis()).toBe(launchHourOfChangeAt(GAUGE_RISES.plus({ milliseconds: 1 })));
    const catalog = await new Telemetry(
      [client()],
      [
        {
          name: 'report_exports',
          description: 'Reports exported',
          source: 'prometheus',
          query: 'sum(increase(report_export_total{app="web"}[$window]))',
        },
      ],
    ).firstUseAfter(
      { source: 'catalog', name: 'report_exports' },
      { launch: LAUNCH, from: LAUNCH, to: SPAN_END },
    );
    expect(catalog.at?.toMillis()).toBe(launchHourOfChangeAt(FIRST_INCREASE));
    expect(ranges.at(-1)?.get('query')).toBe('sum(increase(report_export_total{app="web"}[1h]))');
  });

  it('answers null for a metric with no series at all', async () => {
    const found = await client().firstUseAfter(
      { source: 'prometheus', name: 'never_exported_total', matchers: [] },
      { launch: LAUNCH, from: LAUNCH, to: SPAN_END },
    );
    expect(found).toEqual({ at: null, scannedTo: SPAN_END });
  });

  it('throws TelemetryUnavailableError when Prometheus cannot be reached', async () => {
    const down = new PrometheusClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(
      down.firstUseAfter(exportsTotal, { launch: LAUNCH, from: LAUNCH, to: SPAN_END }),
    ).rejects.toThrow(TelemetryUnavailableError);
  });
});
