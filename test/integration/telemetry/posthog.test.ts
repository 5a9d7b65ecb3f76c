import { DateTime, Duration } from 'luxon';
import { escapeHogQLString, PostHogClient, renderHogQL } from '../../../src/telemetry/posthog-client';
import { TelemetryQueryError, TelemetryUnavailableError } from '../../../src/telemetry/types';
import { fakeTime, type StandIn, type StandInReply, startStandIn } from '../../support/vendor-stand-ins';

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

  it('retries a 429 after the Retry-After it was given', async () => {
    let calls = 0;
    server.answer(() => {
      calls += 1;
      if (calls === 1) {
        return {
          status: 429,
          headers: { 'retry-after': '7' },
          json: {
            type: 'throttled_error',
            code: 'throttled',
            detail: 'Request was throttled. Expected available in 7 seconds.',
          },
        };
      }
      return hogqlAnswer([5]);
    });
    const m = await client().valueOver({ source: 'posthog', event: 'x' }, WEEK, AT);
    expect(m.value).toBe(5);
    expect(time.sleeps).toEqual([7000]);
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
