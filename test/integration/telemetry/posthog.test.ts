import { DateTime, Duration } from 'luxon';
import { escapeHogQLString, PostHogClient, renderHogQL } from '../../../src/telemetry/posthog-client';
import { Telemetry } from '../../../src/telemetry/telemetry';
import { TelemetryQueryError, TelemetryUnavailableError } from '../../../src/telemetry/types';
import {
  fakeTime,
  type PostHogEvent,
  postHogWithEvents,
  type StandIn,
  type StandInReply,
  startStandIn,
} from '../../support/vendor-stand-ins';

const API_KEY = 'phx_SECRETpersonalKEY123';
const AT = DateTime.fromISO('2026-01-15T12:00:00Z', { zone: 'utc' });
const WEEK = Duration.fromObject({ weeks: 1 });

/** PostHog's HogQLQueryResponse for one row. */
function hogqlAnswer(row: unknown[]): StandInReply {
  return {
    json: {
      results: [row],
      columns: row.map((_, i) => `c${i}`),
      types: row.map((_, i) => [`c${i}`, 'UInt64']),
      hogql: 'SELECT …',
      hasMore: false,
      limit: 100,
      offset: 0,
    },
  };
}

let server: StandIn;
let time: ReturnType<typeof fakeTime>;

function client(extra: { timeoutMs?: number } = {}) {
  return new PostHogClient({
    baseUrl: `${server.url}/`,
    apiKey: API_KEY,
    projectId: '4242',
    resilience: { sleep: time.sleep, now: time.now, ...extra },
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

beforeEach(async () => {
  server = await startStandIn();
  time = fakeTime();
});
afterEach(() => server.close());

describe('escapeHogQLString', () => {
  it('quotes and escapes like PostHog does', () => {
    expect(escapeHogQLString('report exported')).toBe("'report exported'");
    expect(escapeHogQLString("it's")).toBe("'it\\'s'");
    expect(escapeHogQLString('a\\b')).toBe("'a\\\\b'");
    expect(escapeHogQLString("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
    expect(escapeHogQLString('line\nnext\ttab\0')).toBe("'line\\nnext\\ttab\\0'");
  });

  it('renders placeholders as literals for people to read', () => {
    expect(renderHogQL('SELECT 1 WHERE event = {event} AND x = {missing}', { event: "o'k" })).toBe(
      "SELECT 1 WHERE event = 'o\\'k' AND x = {missing}",
    );
  });
});

describe('PostHogClient against a PostHog stand-in', () => {
  it('counts events over the window with a HogQL query and the event as a placeholder value', async () => {
    server.answer(() => hogqlAnswer([214]));
    const m = await client().valueOver({ source: 'posthog', event: "report 'exported'" }, WEEK, AT);
    expect(m.value).toBe(214);
    const req = server.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/api/projects/4242/query/');
    expect(req?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req?.body).toEqual({
      query: {
        kind: 'HogQLQuery',
        query:
          'SELECT count() FROM events WHERE event = {event} AND timestamp > toDateTime({from}) AND timestamp <= toDateTime({to})',
        values: {
          event: "report 'exported'",
          from: '2026-01-08T12:00:00.000Z',
          to: '2026-01-15T12:00:00.000Z',
        },
      },
      refresh: 'blocking',
      name: 'donedone',
    });
    expect(m.query).toContain("event = 'report \\'exported\\''");
    expect(m.query).not.toContain(API_KEY);
  });

  it('counts distinct people for math unique', async () => {
    server.answer(() => hogqlAnswer([17]));
    const m = await client().valueOver({ source: 'posthog', event: 'export', math: 'unique' }, WEEK, AT);
    expect(m.value).toBe(17);
    expect((server.requests[0]?.body as { query: { query: string } } | undefined)?.query.query).toMatch(
      /^SELECT count\(DISTINCT person_id\) FROM events/,
    );
  });

  it('answers a series with one query and one window per point', async () => {
    server.answer(() => hogqlAnswer([3, 0, 9]));
    const s = await client().series(
      { source: 'posthog', event: 'export', math: 'unique' },
      WEEK,
      AT.minus({ days: 2 }),
      AT,
      Duration.fromObject({ days: 1 }),
    );
    expect(s.points.map((p) => [p.at.toISODate(), p.value])).toEqual([
      ['2026-01-13', 3],
      ['2026-01-14', 0],
      ['2026-01-15', 9],
    ]);
    expect(server.requests).toHaveLength(1);
    const body = server.requests[0]?.body as { query: { query: string; values: Record<string, string> } };
    expect(body.query.query).toContain(
      'uniqExactIf(person_id, timestamp > toDateTime({f2}) AND timestamp <= toDateTime({t2}))',
    );
    expect(body.query.values.f0).toBe('2026-01-06T12:00:00.000Z');
    expect(body.query.values.t2).toBe('2026-01-15T12:00:00.000Z');
  });

  it('finds existence and lists names through event definitions', async () => {
    server.answer((req) => {
      const search = req.query.get('search') ?? '';
      const all = ['report exported', 'report exported (legacy)', 'export started'];
      const results = all
        .filter((n) => n.includes(search))
        .map((name, i) => ({
          id: `0000000${i}`,
          name,
          volume_30_day: null,
          last_seen_at: '2026-01-14T10:00:00Z',
        }));
      return { json: { count: results.length, next: null, previous: null, results } };
    });
    const c = client();
    expect(await c.exists({ source: 'posthog', event: 'report exported' }, AT)).toBe(true);
    expect(await c.exists({ source: 'posthog', event: 'report' }, AT)).toBe(false);
    expect(await c.list('export')).toEqual(['report exported', 'report exported (legacy)', 'export started']);
    const req = server.requests[0];
    expect(req?.method).toBe('GET');
    expect(req?.path).toBe('/api/projects/4242/event_definitions/');
    expect(req?.query.get('search')).toBe('report exported');
  });

  it('rejects metrics of other sources as a query error', async () => {
    await expect(client().valueOver({ source: 'honeycomb', event: 'x' }, WEEK, AT)).rejects.toThrow(
      TelemetryQueryError,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('turns 401 into TelemetryUnavailableError without retrying, and never quotes the key', async () => {
    server.answer(() => ({
      status: 401,
      json: {
        type: 'authentication_error',
        code: 'authentication_failed',
        detail: `Personal API key ${API_KEY} is invalid.`,
      },
    }));
    const err = await failure(client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toMatch(/refused the personal API key \(HTTP 401\)/);
    expect(server.requests).toHaveLength(1);
  });

  it('turns a HogQL error (400) into TelemetryQueryError with PostHog’s detail, scrubbed of the key', async () => {
    server.answer(() => ({
      status: 400,
      json: {
        type: 'validation_error',
        code: 'query_error',
        detail: `Unknown table; key=${API_KEY}`,
        attr: null,
      },
    }));
    const err = await failure(client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT));
    expect(err).toBeInstanceOf(TelemetryQueryError);
    expect(err.message).toBe('posthog: PostHog rejected the query: Unknown table; key=***');
  });

  it('retries a 429 after the short Retry-After it was given', async () => {
    let calls = 0;
    server.answer(() => {
      calls += 1;
      if (calls === 1) {
        return {
          status: 429,
          headers: { 'retry-after': '2' },
          json: {
            type: 'throttled_error',
            code: 'throttled',
            detail: 'Request was throttled. Expected available in 2 seconds.',
          },
        };
      }
      return hogqlAnswer([5]);
    });
    const m = await client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT);
    expect(m.value).toBe(5);
    expect(time.sleeps).toEqual([2000]);
  });

  it('fails fast on a 429 with a long Retry-After, saying when to try again', async () => {
    server.answer(() => ({
      status: 429,
      headers: { 'retry-after': '7' },
      json: { type: 'throttled_error', code: 'throttled', detail: 'Expected available in 7 seconds.' },
    }));
    const err = await failure(client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe(
      'posthog: not called again: posthog asked to slow down (HTTP 429), for every donedone process; the next try is in 7 s',
    );
    expect(server.requests).toHaveLength(1);
    expect(time.sleeps).toEqual([]);
  });

  it('retries a 429 without Retry-After with back-off, then gives up plainly', async () => {
    server.answer(() => ({
      status: 429,
      json: { type: 'throttled_error', code: 'throttled', detail: 'throttled' },
    }));
    const err = await failure(client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe('posthog: HTTP 429 (rate limited) after 4 attempts');
    expect(server.requests).toHaveLength(4);
    expect(time.sleeps).toHaveLength(3);
    // Exponential with jitter: each delay within [base·2^n / 2, base·2^n].
    time.sleeps.forEach((ms, n) => {
      expect(ms).toBeGreaterThanOrEqual((500 * 2 ** n) / 2);
      expect(ms).toBeLessThanOrEqual(500 * 2 ** n);
    });
  });

  it('retries a 500 and succeeds when PostHog recovers', async () => {
    let calls = 0;
    server.answer(() => {
      calls += 1;
      return calls < 3
        ? { status: 500, json: { type: 'server_error', detail: 'A server error occurred.' } }
        : hogqlAnswer([1]);
    });
    expect((await client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT)).value).toBe(1);
    expect(server.requests).toHaveLength(3);
  });

  it('times out a PostHog that does not answer', async () => {
    server.answer(() => ({ hang: true }));
    const err = await failure(
      client({ timeoutMs: 100 }).valueOver({ source: 'posthog', event: 'x' }, WEEK, AT),
    );
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe('posthog: time-out (100 ms) after 4 attempts');
  });

  it('reports malformed JSON as unavailable', async () => {
    server.answer(() => ({ raw: '{"results": [[1]' }));
    const err = await failure(client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe('posthog: unexpected answer: the answer was not JSON');
  });

  it('reports a network failure without the key or the URL’s query string', async () => {
    const url = server.url;
    await server.close();
    const c = new PostHogClient({
      baseUrl: url,
      apiKey: API_KEY,
      projectId: '1',
      resilience: { sleep: time.sleep, now: time.now },
    });
    const err = await failure(c.list('secret-search'));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe('posthog: network error (ECONNREFUSED) after 4 attempts');
    server = await startStandIn();
  });
});

describe('PostHog: no data, and first use, against a stand-in with an events table', () => {
  const HOUR_MS = 3_600_000;
  // Launched at a non-round instant, so hours are the launch's, not the clock's.
  const LAUNCH = DateTime.fromISO('2025-12-01T10:30:00Z', { zone: 'utc' });
  const LATER = LAUNCH.plus({ days: 45 });
  // First use 30 days, 5 hours and 17 minutes after launch; one use before launch, which must not count.
  const FIRST_MS = LAUNCH.plus({ days: 30, hours: 5, minutes: 17 }).toMillis();
  const events: PostHogEvent[] = [
    { event: 'bulk export', at: LAUNCH.minus({ days: 2 }).toMillis(), person: 'p0' },
    { event: 'bulk export', at: FIRST_MS, person: 'p1' },
    { event: 'bulk export', at: FIRST_MS + 20 * 60_000, person: 'p1' },
    { event: 'bulk export', at: FIRST_MS + 3 * HOUR_MS, person: 'p2' },
  ];
  // The launch-anchored hour that holds the first use after launch: derived from the table.
  const firstAfterLaunch = Math.min(...events.map((e) => e.at).filter((t) => t >= LAUNCH.toMillis()));
  const FIRST_HOUR = LAUNCH.plus({
    milliseconds: Math.floor((firstAfterLaunch - LAUNCH.toMillis()) / HOUR_MS) * HOUR_MS,
  });
  // A week ending here holds the uses after launch.
  const BUSY = DateTime.fromMillis(FIRST_MS + 4 * HOUR_MS, { zone: 'utc' });
  const inBusyWeek = events.filter((e) => e.at > BUSY.minus(WEEK).toMillis() && e.at <= BUSY.toMillis());
  const sent = { source: 'posthog', event: 'bulk export' } as const;
  const never = { source: 'posthog', event: 'bulk export v2' } as const;

  function useTable(table: PostHogEvent[] = events, pageSize?: number) {
    server.answer(
      postHogWithEvents({
        apiKey: API_KEY,
        projectId: '4242',
        events: table,
        timezone: 'America/Los_Angeles',
        ...(pageSize ? { pageSize } : {}),
      }),
    );
  }
  const hogqlBodies = () =>
    server.requests
      .filter((r) => r.path === '/api/projects/4242/query/')
      .map((r) => (r.body as { query: { query: string; values: Record<string, string> } }).query);

  it('answers no data for an event never sent, and 0 for a sent event with none in the window', async () => {
    useTable();
    const c = client();
    const quiet = LAUNCH.plus({ days: 10 });
    expect((await c.valueOver(sent, WEEK, quiet)).value).toBe(0);
    expect((await c.valueOver(never, WEEK, quiet)).value).toBeNull();
    expect((await c.valueOver({ ...never, math: 'unique' }, WEEK, quiet)).value).toBeNull();
    expect(inBusyWeek.length).toBeGreaterThan(0);
    expect((await c.valueOver({ ...sent, math: 'unique' }, WEEK, BUSY)).value).toBe(
      new Set(inBusyWeek.map((e) => e.person)).size,
    );
    expect((await c.valueOver(sent, WEEK, BUSY)).value).toBe(inBusyWeek.length);
    expect(await c.exists(sent, LATER)).toBe(true);
    expect(await c.exists(never, LATER)).toBe(false);
    const day = Duration.fromObject({ days: 1 });
    expect((await c.series(never, day, quiet.minus({ days: 2 }), quiet, day)).points).toEqual([]);
    const zeros = await c.series(sent, day, quiet.minus({ days: 2 }), quiet, day);
    expect(zeros.points.map((p) => p.value)).toEqual([0, 0, 0]);
  });

  it('turns a never-sent PostHog event into no data through the Telemetry door', async () => {
    useTable();
    const telemetry = new Telemetry([client()]);
    expect((await telemetry.valueOver(never, WEEK, LATER)).value).toBeNull();
    expect((await telemetry.valueOver(sent, WEEK, BUSY)).value).toBe(inBusyWeek.length);
  });

  it('believes "seen" answers for a while, "never seen" for a minute', async () => {
    useTable();
    const c = client();
    const definitions = () => server.requests.filter((r) => r.path.endsWith('/event_definitions/')).length;
    const quiet = LAUNCH.plus({ days: 10 });
    await c.valueOver(never, WEEK, quiet);
    await c.valueOver(never, WEEK, quiet.plus({ hours: 1 }));
    await c.valueOver(sent, WEEK, quiet);
    await c.valueOver(sent, WEEK, quiet.plus({ hours: 1 }));
    expect(definitions()).toBe(2);
    time.advance(61_000);
    await c.valueOver(never, WEEK, quiet);
    await c.valueOver(sent, WEEK, quiet);
    expect(definitions()).toBe(3);
  });

  it('asks for one event of that name when too many near names hide it among the definitions', async () => {
    const near = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => ({ event: `${x} zz export`, at: FIRST_MS }));
    useTable([...near, { event: 'zz export', at: FIRST_MS }], 1);
    const c = client();
    const quiet = LAUNCH.plus({ days: 10 });
    expect((await c.valueOver({ source: 'posthog', event: 'zz export' }, WEEK, quiet)).value).toBe(0);
    expect((await c.valueOver({ source: 'posthog', event: 'zz expor' }, WEEK, quiet)).value).toBeNull();
    expect(hogqlBodies().filter((q) => q.query.endsWith('LIMIT 1'))).toHaveLength(2);
  });

  it('finds first use 30 days after launch in one query, floored to the launch’s hour', async () => {
    useTable();
    const found = await client().firstUseAfter(sent, { launch: LAUNCH, from: LAUNCH, to: LATER });
    expect(found.at?.toISO()).toBe(FIRST_HOUR.toISO());
    expect(found.at?.minute).toBe(30);
    expect(found.scannedTo.toISO()).toBe(FIRST_HOUR.plus({ hours: 1 }).toISO());
    expect(found.unsearchable).toBeUndefined();
    const [q] = hogqlBodies();
    expect(hogqlBodies()).toHaveLength(1);
    expect(q?.query).not.toContain('bulk export');
    expect(q?.values).toEqual({
      event: 'bulk export',
      from: '2025-12-01T10:30:00.000Z',
      to: LATER.toUTC().toISO(),
    });
  });

  it('judges only whole hours, and goes on from the cursor it returned', async () => {
    useTable();
    const c = client();
    // `to` falls 30 minutes into the hour of first use: that hour is not judged yet.
    const first = await c.firstUseAfter(sent, {
      launch: LAUNCH,
      from: LAUNCH,
      to: FIRST_HOUR.plus({ minutes: 30 }),
    });
    expect(first).toEqual({ at: null, scannedTo: FIRST_HOUR });
    const next = await c.firstUseAfter(sent, { launch: LAUNCH, from: first.scannedTo, to: LATER });
    expect(next.at?.toISO()).toBe(FIRST_HOUR.toISO());
    // Later searches start where the cursor is: an hour with use after it is the answer.
    const after = await c.firstUseAfter(sent, {
      launch: LAUNCH,
      from: next.scannedTo,
      to: LATER,
    });
    const secondUse = events[3]?.at ?? 0;
    expect(after.at?.toMillis()).toBe(
      LAUNCH.toMillis() + Math.floor((secondUse - LAUNCH.toMillis()) / HOUR_MS) * HOUR_MS,
    );
  });

  it('answers no first use for an event never sent, with the cursor at the last whole hour', async () => {
    useTable();
    const to = LATER.plus({ minutes: 10 });
    const found = await client().firstUseAfter(never, { launch: LAUNCH, from: LAUNCH, to });
    expect(found.at).toBeNull();
    expect(found.scannedTo.toISO()).toBe(LATER.toUTC().toISO());
  });

  it('throws TelemetryUnavailableError when PostHog fails, never "no first use"', async () => {
    server.answer(() => ({ status: 503, json: { detail: 'down' } }));
    await expect(client().firstUseAfter(sent, { launch: LAUNCH, from: LAUNCH, to: LATER })).rejects.toThrow(
      TelemetryUnavailableError,
    );
  });
});
