import { DateTime, Duration } from 'luxon';
import { HoneycombClient } from '../../../src/telemetry/honeycomb-client';
import { TelemetryQueryError, TelemetryUnavailableError } from '../../../src/telemetry/types';
import {
  fakeTime,
  type RecordedRequest,
  type StandIn,
  type StandInReply,
  startStandIn,
} from '../../support/vendor-stand-ins';

const API_KEY = 'hcaik_SECRETteamKEY456';
const NOW = DateTime.fromISO('2026-01-15T12:00:00Z', { zone: 'utc' });
const DAY = Duration.fromObject({ days: 1 });
const WEEK = Duration.fromObject({ weeks: 1 });

type Data = {
  results?: { data: Record<string, unknown> }[];
  series?: { time: string; data: Record<string, unknown> }[];
};

/**
 * A small Honeycomb: queries are stored, query results complete after `pollsBeforeComplete`
 * GETs, and `data` decides what a completed result holds.
 */
function honeycomb(data: (spec: Record<string, unknown>) => Data, pollsBeforeComplete = 1) {
  const specs = new Map<string, Record<string, unknown>>();
  const results = new Map<string, { queryId: string; polls: number }>();
  return (req: RecordedRequest): StandInReply => {
    if (req.headers['x-honeycomb-team'] !== API_KEY)
      return { status: 401, json: { error: 'unknown API key - check your credentials' } };
    if (req.method === 'POST' && req.path === '/1/queries/web') {
      const id = `q${specs.size + 1}`;
      specs.set(id, req.body as Record<string, unknown>);
      return { json: { id, ...(req.body as object) } };
    }
    if (req.method === 'POST' && req.path === '/1/query_results/web') {
      const id = `r${results.size + 1}`;
      const queryId = (req.body as { query_id: string }).query_id;
      results.set(id, { queryId, polls: 0 });
      if (pollsBeforeComplete === 0) {
        return { status: 201, json: { id, complete: true, data: data(specs.get(queryId) ?? {}), links: {} } };
      }
      return {
        status: 201,
        headers: { location: `/1/query_results/web/${id}` },
        json: { id, complete: false },
      };
    }
    const m = /^\/1\/query_results\/web\/(\w+)$/.exec(req.path);
    if (req.method === 'GET' && m?.[1]) {
      const r = results.get(m[1]);
      if (!r) return { status: 404, json: { error: 'query result not found' } };
      r.polls += 1;
      if (r.polls < pollsBeforeComplete) return { json: { id: m[1], complete: false } };
      return {
        json: {
          id: m[1],
          complete: true,
          query: specs.get(r.queryId),
          data: data(specs.get(r.queryId) ?? {}),
          links: { query_url: 'https://ui.honeycomb.io/x', graph_image_url: 'https://ui.honeycomb.io/x.png' },
        },
      };
    }
    return { status: 404, json: { error: 'not found' } };
  };
}

let server: StandIn;
let time: ReturnType<typeof fakeTime>;

function client(extra: { timeoutMs?: number } = {}) {
  return new HoneycombClient({
    baseUrl: server.url,
    apiKey: API_KEY,
    dataset: 'web',
    eventColumn: 'event.name',
    sleep: time.sleep,
    now: () => NOW,
    resilience: { now: time.now, ...extra },
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected the call to fail');
  expect(err.message).not.toContain(API_KEY);
  expect(err.message).not.toContain('SECRET');
  return err;
}

function specOf(n: number): Record<string, unknown> {
  const queries = server.requests.filter((r) => r.method === 'POST' && r.path === '/1/queries/web');
  return queries[n]?.body as Record<string, unknown>;
}

beforeEach(async () => {
  server = await startStandIn();
  time = fakeTime();
});
afterEach(() => server.close());

describe('HoneycombClient against a Honeycomb stand-in', () => {
  it('creates a query, runs it, polls until complete and reads the COUNT', async () => {
    server.answer(honeycomb(() => ({ results: [{ data: { COUNT: 312 } }] }), 3));
    const m = await client().valueOver({ source: 'honeycomb', event: 'export.done' }, WEEK, NOW);
    expect(m.value).toBe(312);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /1/queries/web',
      'POST /1/query_results/web',
      'GET /1/query_results/web/r1',
      'GET /1/query_results/web/r1',
      'GET /1/query_results/web/r1',
    ]);
    expect(specOf(0)).toEqual({
      calculations: [{ op: 'COUNT' }],
      filters: [{ column: 'event.name', op: '=', value: 'export.done' }],
      filter_combination: 'AND',
      time_range: 604800,
    });
    expect(server.requests[1]?.body).toEqual({ query_id: 'q1', disable_series: true });
    expect(server.requests[0]?.headers['x-honeycomb-team']).toBe(API_KEY);
    // Polls back off.
    expect(time.sleeps).toEqual([250, 500, 1000]);
    expect(m.query).toContain('"op":"COUNT"');
    expect(m.query).not.toContain(API_KEY);
  });

  it('uses absolute times for a window that ended earlier, with the catalog calculation and filters', async () => {
    server.answer(honeycomb(() => ({ results: [{ data: { 'COUNT_DISTINCT(user.id)': 41 } }] })));
    const at = NOW.minus({ days: 2 });
    const m = await client().valueOver(
      {
        source: 'honeycomb',
        event: '',
        calculation: { op: 'COUNT_DISTINCT', column: 'user.id' },
        filters: [{ column: 'http.route', op: '=', value: '/export' }],
      },
      DAY,
      at,
    );
    expect(m.value).toBe(41);
    expect(specOf(0)).toEqual({
      calculations: [{ op: 'COUNT_DISTINCT', column: 'user.id' }],
      filters: [{ column: 'http.route', op: '=', value: '/export' }],
      filter_combination: 'AND',
      start_time: Math.floor(at.minus(DAY).toSeconds()),
      end_time: Math.floor(at.toSeconds()),
    });
  });

  it('answers 0 for an event seen this week with none in the window, and no data for one never sent', async () => {
    // `sent` came 3 days ago; `never.sent` never did. Honeycomb answers no rows when nothing matched.
    const sentAt = Math.floor(NOW.minus({ days: 3 }).toSeconds());
    server.answer(
      honeycomb((spec) => {
        const filters = spec.filters as { value?: string }[];
        const from =
          (spec.start_time as number | undefined) ??
          Math.floor(NOW.toSeconds()) - (spec.time_range as number);
        const to = (spec.end_time as number | undefined) ?? Math.floor(NOW.toSeconds());
        const hit = filters[0]?.value === 'sent' && sentAt >= from && sentAt < to;
        return { results: hit ? [{ data: { COUNT: 1 } }] : [] };
      }, 0),
    );
    const c = client();
    const sent = { source: 'honeycomb', event: 'sent' } as const;
    const never = { source: 'honeycomb', event: 'never.sent' } as const;
    expect((await c.valueOver(sent, DAY, NOW)).value).toBe(0);
    expect((await c.valueOver(sent, WEEK, NOW)).value).toBe(1);
    expect((await c.valueOver(never, DAY, NOW)).value).toBeNull();
    expect(await c.exists(sent, NOW)).toBe(true);
    expect(await c.exists(never, NOW)).toBe(false);
    const series = await c.series(never, DAY, NOW.minus({ days: 2 }), NOW, DAY);
    expect(series.points).toEqual([]);
    // A P99 of no events is no data, seen or not.
    const p99 = { ...sent, calculation: { op: 'P99', column: 'duration_ms' } };
    expect((await c.valueOver(p99, DAY, NOW)).value).toBeNull();
  });

  it('asks "seen this week?" once for repeated empty windows, and again after a while', async () => {
    server.answer(honeycomb(() => ({ results: [] }), 0));
    let now = NOW;
    const c = new HoneycombClient({
      baseUrl: server.url,
      apiKey: API_KEY,
      dataset: 'web',
      sleep: time.sleep,
      now: () => now,
      resilience: { now: time.now },
    });
    const never = { source: 'honeycomb', event: 'never.sent' } as const;
    const weekly = () =>
      server.requests.filter(
        (r) => r.path === '/1/queries/web' && (r.body as { time_range?: number }).time_range === 604800,
      );
    expect((await c.valueOver(never, DAY, NOW)).value).toBeNull();
    expect((await c.valueOver(never, DAY, NOW.minus({ hours: 1 }))).value).toBeNull();
    expect(weekly()).toHaveLength(1);
    now = NOW.plus({ minutes: 2 });
    expect((await c.valueOver(never, DAY, NOW.minus({ hours: 2 }))).value).toBeNull();
    expect(weekly()).toHaveLength(2);
  });

  it('refuses a per month window plainly, without calling Honeycomb', async () => {
    server.answer(honeycomb(() => ({ results: [] })));
    const err = await failure(
      client().valueOver({ source: 'honeycomb', event: 'x' }, Duration.fromObject({ months: 1 }), NOW),
    );
    expect(err).toBeInstanceOf(TelemetryQueryError);
    expect(err.message).toBe(
      'honeycomb: Honeycomb answers query results only for the last 7 days; a per month window cannot be measured there. Use per week or per day, or a catalog metric from another source.',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a window that starts more than 7 days ago', async () => {
    const err = await failure(
      client().valueOver({ source: 'honeycomb', event: 'x' }, WEEK, NOW.minus({ days: 3 })),
    );
    expect(err).toBeInstanceOf(TelemetryQueryError);
    expect(err.message).toMatch(
      /only for the last 7 days; a window starting 2026-01-05 cannot be measured there/,
    );
    const series = client().series(
      { source: 'honeycomb', event: 'x' },
      DAY,
      NOW.minus({ days: 7 }),
      NOW,
      DAY,
    );
    await expect(series).rejects.toThrow(/only for the last 7 days/);
  });

  it('builds a rolling series from buckets of one step', async () => {
    // Daily buckets from 6 days ago: 1, 2, 3, 4, 5, 6.
    server.answer(
      honeycomb((spec) => {
        const start = spec.start_time as number;
        return {
          series: [1, 2, 3, 4, 5, 6].map((v, i) => ({
            time: DateTime.fromSeconds(start + i * 86400, { zone: 'utc' }).toISO() ?? '',
            data: { COUNT: v },
          })),
          results: [{ data: { COUNT: 21 } }],
        };
      }),
    );
    const s = await client().series(
      { source: 'honeycomb', event: 'x' },
      Duration.fromObject({ days: 2 }),
      NOW.minus({ days: 4 }),
      NOW,
      DAY,
    );
    expect(specOf(0)).toMatchObject({
      granularity: 86400,
      start_time: Math.floor(NOW.minus({ days: 6 }).toSeconds()),
      end_time: Math.floor(NOW.toSeconds()),
    });
    expect(s.points.map((p) => [p.at.toISODate(), p.value])).toEqual([
      ['2026-01-11', 3],
      ['2026-01-12', 5],
      ['2026-01-13', 7],
      ['2026-01-14', 9],
      ['2026-01-15', 11],
    ]);
  });

  it('will not roll up a non-additive calculation', async () => {
    const s = client().series(
      { source: 'honeycomb', event: 'x', calculation: { op: 'P99', column: 'duration_ms' } },
      Duration.fromObject({ days: 2 }),
      NOW.minus({ days: 2 }),
      NOW,
      DAY,
    );
    await expect(s).rejects.toThrow(TelemetryQueryError);
  });

  it('checks existence with a 7-day COUNT and lists event names with a breakdown', async () => {
    server.answer(
      honeycomb((spec) => {
        if (spec.breakdowns) {
          return {
            results: [
              { data: { 'event.name': 'export.done', COUNT: 90 } },
              { data: { 'event.name': 'export.failed', COUNT: 4 } },
            ],
          };
        }
        const filters = spec.filters as { value?: string }[];
        return { results: filters[0]?.value === 'export.done' ? [{ data: { COUNT: 90 } }] : [] };
      }, 0),
    );
    const c = client();
    expect(await c.exists({ source: 'honeycomb', event: 'export.done' }, NOW)).toBe(true);
    expect(await c.exists({ source: 'honeycomb', event: 'never.sent' }, NOW)).toBe(false);
    expect(await c.list('export')).toEqual(['export.done', 'export.failed']);
    expect(specOf(2)).toEqual({
      calculations: [{ op: 'COUNT' }],
      breakdowns: ['event.name'],
      filters: [{ column: 'event.name', op: 'contains', value: 'export' }],
      orders: [{ op: 'COUNT', order: 'descending' }],
      limit: 1000,
      time_range: 604800,
    });
  });

  it('turns 401 into TelemetryUnavailableError at once', async () => {
    server.answer(() => ({ status: 401, json: { error: `unknown API key ${API_KEY}` } }));
    const err = await failure(client().valueOver({ source: 'honeycomb', event: 'x' }, DAY, NOW));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toMatch(/refused the API key \(HTTP 401\)/);
    expect(server.requests).toHaveLength(1);
  });

  it('turns a 400 on the query into TelemetryQueryError with Honeycomb’s words', async () => {
    server.answer(() => ({ status: 400, json: { error: 'invalid column in filter: nope' } }));
    const err = await failure(client().valueOver({ source: 'honeycomb', event: 'x' }, DAY, NOW));
    expect(err).toBeInstanceOf(TelemetryQueryError);
    expect(err.message).toBe('honeycomb: Honeycomb rejected the query: invalid column in filter: nope');
  });

  it('retries a 429 without Retry-After (as the Query Data API sends it) and one with a short HTTP-date Retry-After', async () => {
    const inner = honeycomb(() => ({ results: [{ data: { COUNT: 1 } }] }), 0);
    let resultCalls = 0;
    server.answer((req) => {
      if (req.method === 'POST' && req.path === '/1/query_results/web') {
        resultCalls += 1;
        const problem = {
          status: 429,
          type: 'https://api.honeycomb.io/problems/rate-limited',
          title: 'You have exceeded your rate limit.',
          error: 'You have exceeded your rate limit.',
        };
        if (resultCalls === 1) return { status: 429, json: problem };
        if (resultCalls === 2) {
          const retryAt = new Date(time.now() + 2_000).toUTCString();
          return { status: 429, headers: { 'retry-after': retryAt }, json: problem };
        }
      }
      return inner(req);
    });
    expect((await client().valueOver({ source: 'honeycomb', event: 'x' }, DAY, NOW)).value).toBe(1);
    expect(resultCalls).toBe(3);
    expect(time.sleeps[0]).toBeGreaterThanOrEqual(250);
    expect(time.sleeps[0]).toBeLessThanOrEqual(500);
    // An HTTP date has one-second precision.
    expect(time.sleeps[1]).toBeGreaterThan(1000);
    expect(time.sleeps[1]).toBeLessThanOrEqual(2000);
  });

  it('gives up on a 500 after the retries, plainly', async () => {
    server.answer(() => ({ status: 500, json: { error: 'internal error' } }));
    const err = await failure(client().valueOver({ source: 'honeycomb', event: 'x' }, DAY, NOW));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe('honeycomb: HTTP 500 after 4 attempts');
  });

  it('times out a Honeycomb that does not answer', async () => {
    server.answer(() => ({ hang: true }));
    const err = await failure(client({ timeoutMs: 80 }).exists({ source: 'honeycomb', event: 'x' }, NOW));
    expect(err.message).toBe('honeycomb: time-out (80 ms) after 4 attempts');
  });

  it('reports malformed JSON as unavailable', async () => {
    server.answer(() => ({ raw: '<html>502 Bad Gateway</html>' }));
    const err = await failure(client().exists({ source: 'honeycomb', event: 'x' }, NOW));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe('honeycomb: unexpected answer: the answer was not JSON');
  });

  it('stops polling a query result that never completes', async () => {
    server.answer(honeycomb(() => ({ results: [] }), 1000));
    const err = await failure(client().exists({ source: 'honeycomb', event: 'x' }, NOW));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toMatch(/^honeycomb: the query result was not ready after 14 polls/);
  });

  it('holds query results to 10 a minute on the client side, refusing the 11th with when to retry', async () => {
    server.answer(honeycomb(() => ({ results: [{ data: { COUNT: 1 } }] }), 0));
    const c = client();
    for (let i = 0; i < 10; i++) await c.exists({ source: 'honeycomb', event: 'x' }, NOW);
    const err = await failure(c.exists({ source: 'honeycomb', event: 'x' }, NOW));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toMatch(
      /^honeycomb: not called: rate limit reached \(10 query results a minute, shared by every donedone process\); the next try is in (59|60) s$/,
    );
    // The eleventh query was created, but its result never asked for.
    expect(server.requests.filter((r) => r.path === '/1/query_results/web')).toHaveLength(10);
    expect(time.sleeps).toEqual([]);
  });
});

describe('Honeycomb: first use within the 7 days it keeps', () => {
  const HOUR_MS = 3_600_000;
  // Launched 40 days ago at a non-round instant: Honeycomb's hourly buckets (on the clock's
  // hours) straddle the launch's hours (from :30 to :30).
  const LAUNCH = DateTime.fromISO('2025-12-06T10:30:00Z', { zone: 'utc' });
  const LIMIT = NOW.minus({ days: 7 });
  const launchHour = (ms: number) =>
    LAUNCH.toMillis() + Math.floor((ms - LAUNCH.toMillis()) / HOUR_MS) * HOUR_MS;
  /** The first launch-anchored hour Honeycomb can search: the one starting first after the limit. */
  const SEARCHABLE_FROM = LAUNCH.plus({
    milliseconds: Math.ceil((LIMIT.toMillis() - LAUNCH.toMillis()) / HOUR_MS) * HOUR_MS,
  });

  /**
   * Honeycomb over a list of event times: COUNT with series in buckets aligned on multiples of
   * the granularity (as the clock's hours), events counted in [start_time, end_time); refuses a
   * start older than 7 days and a granularity outside [range/1000, range], as Honeycomb does.
   */
  function events(times: number[]) {
    return (spec: Record<string, unknown>): Data => {
      const start = (spec.start_time as number) * 1000;
      const end = (spec.end_time as number) * 1000;
      if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error('absolute times expected');
      if (start < LIMIT.toMillis()) throw new Error('query starts more than 7 days ago');
      const inRange = times.filter((t) => t >= start && t < end);
      const g = spec.granularity as number | undefined;
      const series: Data['series'] = [];
      if (g !== undefined) {
        const rangeSec = (end - start) / 1000;
        if (g < rangeSec / 1000 || g > rangeSec) throw new Error(`granularity ${g} out of bounds`);
        const first = Math.floor(start / (g * 1000)) * g * 1000;
        for (let b = first; b < end; b += g * 1000) {
          const count = inRange.filter((t) => t >= b && t < b + g * 1000).length;
          series.push({
            time: DateTime.fromMillis(b, { zone: 'utc' }).toISO() ?? '',
            data: { COUNT: count },
          });
        }
      }
      return { series, results: inRange.length > 0 ? [{ data: { COUNT: inRange.length } }] : [] };
    };
  }

  /** The stand-in's answer, or a 400 with Honeycomb's shape when the spec breaks its rules. */
  function honeycombOf(times: number[]) {
    const data = events(times);
    const inner = honeycomb(data, 0);
    return (req: RecordedRequest): StandInReply => {
      if (req.method === 'POST' && req.path === '/1/queries/web') {
        try {
          data(req.body as Record<string, unknown>);
        } catch (err) {
          return { status: 400, json: { error: (err as Error).message } };
        }
      }
      return inner(req);
    };
  }

  const metric = { source: 'honeycomb', event: 'export.done' } as const;

  it.each([
    ['in the earlier of the two hours a bucket straddles', 10],
    ['in the later of the two hours a bucket straddles', 40],
  ])('clamps to 7 days, says what it could not search, and finds first use %s', async (_, minute) => {
    // One use 10 days ago (beyond Honeycomb's reach), then the first it can see, 3 days ago.
    const seen = NOW.minus({ days: 3 }).set({ hour: 13, minute }).toMillis();
    const times = [NOW.minus({ days: 10 }).toMillis(), seen, seen + 5 * HOUR_MS];
    server.answer(honeycombOf(times));
    const found = await client().firstUseAfter(metric, { launch: LAUNCH, from: LAUNCH, to: NOW });
    const expected = launchHour(Math.min(...times.filter((t) => t >= SEARCHABLE_FROM.toMillis())));
    expect(found.at?.toMillis()).toBe(expected);
    expect(found.at?.minute).toBe(30);
    expect(found.scannedTo.toMillis()).toBe(expected + HOUR_MS);
    expect(found.unsearchable?.from.toISO()).toBe(LAUNCH.toISO());
    expect(found.unsearchable?.to.toISO()).toBe(SEARCHABLE_FROM.toISO());
    const first = specOf(0);
    expect(first.granularity).toBe(3600);
    expect((first.start_time as number) * 1000).toBe(SEARCHABLE_FROM.toMillis());
    expect(first.filters).toEqual([{ column: 'event.name', op: '=', value: 'export.done' }]);
    // The first bucket with events straddles two launch hours: one COUNT over the earlier says which.
    const refine = specOf(1);
    expect(refine.granularity).toBeUndefined();
    expect((refine.start_time as number) * 1000).toBe(launchHour(Math.floor(seen / HOUR_MS) * HOUR_MS));
    expect((refine.end_time as number) - (refine.start_time as number)).toBe(3600);
    expect(specOf(2)).toBeUndefined();
  });

  it('answers no first use when Honeycomb has no rows, with the cursor at the last whole hour', async () => {
    server.answer(honeycombOf([]));
    const found = await client().firstUseAfter(metric, { launch: LAUNCH, from: LAUNCH, to: NOW });
    expect(found.at).toBeNull();
    expect(found.scannedTo.toMillis()).toBe(launchHour(NOW.toMillis()));
    expect(found.unsearchable?.to.toISO()).toBe(SEARCHABLE_FROM.toISO());
  });

  it('searches nothing, and says so, when the whole range is older than 7 days', async () => {
    server.answer(honeycombOf([NOW.minus({ days: 9 }).toMillis()]));
    const to = NOW.minus({ days: 8 });
    const found = await client().firstUseAfter(metric, { launch: LAUNCH, from: LAUNCH, to });
    expect(found.at).toBeNull();
    expect(found.scannedTo.toMillis()).toBe(launchHour(to.toMillis()));
    expect(found.unsearchable).toEqual({ from: LAUNCH, to: found.scannedTo });
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    ['on a launch hour', launchHour(NOW.minus({ days: 2 }).toMillis())],
    ['inside a launch hour', NOW.minus({ days: 2 }).toMillis()],
  ])('needs no clamp when the cursor is inside the 7 days (%s)', async (_, fromMs) => {
    const use = NOW.minus({ hours: 20 }).toMillis();
    server.answer(honeycombOf([use]));
    const from = DateTime.fromMillis(fromMs, { zone: 'utc' });
    const found = await client().firstUseAfter(metric, { launch: LAUNCH, from, to: NOW });
    expect(found.at?.toMillis()).toBe(launchHour(use));
    expect(found.unsearchable).toBeUndefined();
  });

  it('throws TelemetryUnavailableError when Honeycomb fails, never "no first use"', async () => {
    server.answer(() => ({ status: 500, json: { error: 'internal error' } }));
    await expect(client().firstUseAfter(metric, { launch: LAUNCH, from: LAUNCH, to: NOW })).rejects.toThrow(
      TelemetryUnavailableError,
    );
  });
});
