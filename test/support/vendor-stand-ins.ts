/**
 * A local stand-in for a SaaS telemetry API (PostHog, Honeycomb): a node:http server on
 * 127.0.0.1 that records each request and answers with what the test's handler says, in the
 * vendor's documented shapes. Nothing but Node is needed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';

export interface RecordedRequest {
  method: string;
  /** Path and query string, e.g. `/api/projects/1/query/`. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface StandInReply {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is (for malformed answers). */
  raw?: string;
  /** Never answer: for time-outs. */
  hang?: boolean;
}

export type StandInHandler = (req: RecordedRequest) => StandInReply | Promise<StandInReply>;

export interface StandIn {
  url: string;
  requests: RecordedRequest[];
  /** Replaces the handler. */
  answer(handler: StandInHandler): void;
  close(): Promise<void>;
}

export async function startStandIn(
  initial: StandInHandler = () => ({ status: 404, json: {} }),
): Promise<StandIn> {
  let handler = initial;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the text
      }
      const u = new URL(req.url ?? '/', 'http://stand-in');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded))
        .then((reply) => {
          if (reply.hang) return;
          const payload = reply.raw ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
          res.writeHead(reply.status ?? 200, {
            'content-type': 'application/json',
            ...reply.headers,
          });
          res.end(payload);
        })
        .catch((err: unknown) => {
          res.writeHead(599, { 'content-type': 'text/plain' });
          res.end(`stand-in handler failed: ${String(err)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A `sleep` that returns at once and records what was asked, advancing a fake clock. */
export function fakeTime(startMs = Date.UTC(2026, 0, 15, 12)) {
  let nowMs = startMs;
  const sleeps: number[] = [];
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      nowMs += ms;
    },
  };
}

/** One event in the PostHog stand-in's events table. */
export interface PostHogEvent {
  event: string;
  /** Epoch milliseconds. */
  at: number;
  person?: string;
}

export interface PostHogWithEventsOptions {
  apiKey: string;
  projectId: string;
  events: PostHogEvent[];
  /** PostHog answers times in the project's zone, with an offset (default UTC). */
  timezone?: string;
  /** Event definitions a page (default 100). */
  pageSize?: number;
}

const HOGQL_TIME = "yyyy-MM-dd'T'HH:mm:ss.SSS'000'ZZ";

/** A placeholder's value read as PostHog would take it: an ISO 8601 instant with its offset, or a refusal. */
function instantOf(values: Record<string, string>, name: string): number {
  const v = values[name] ?? '';
  const t = DateTime.fromISO(v, { setZone: true });
  if (!t.isValid || !/T.*(Z|[+-]\d\d:\d\d)$/.test(v))
    throw new Error(`{${name}} is not an ISO 8601 instant: ${v}`);
  return t.toMillis();
}

/**
 * A small PostHog over an events table: HogQL over `POST /api/projects/{id}/query/` for the
 * query shapes donedone sends (each read and checked: placeholders only, never a spliced event
 * name, every placeholder given a value, times as ISO 8601), evaluated over the table; and
 * `GET /api/projects/{id}/event_definitions/` with search and pages. Anything else is refused
 * as PostHog refuses a bad query (400), so a client that sends something new fails the test.
 */
export function postHogWithEvents(opts: PostHogWithEventsOptions): StandInHandler {
  const zone = opts.timezone ?? 'UTC';
  const pageSize = opts.pageSize ?? 100;
  const bad = (detail: string): StandInReply => ({
    status: 400,
    json: { type: 'validation_error', code: 'query_error', detail, attr: null },
  });
  const rows = (row: unknown[]): StandInReply => ({
    json: {
      results: [row],
      columns: row.map((_, i) => `c${i}`),
      hasMore: false,
      limit: 100,
      offset: 0,
    },
  });
  const time = (ms: number) => DateTime.fromMillis(ms, { zone }).toFormat(HOGQL_TIME);
  return (req) => {
    if (req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return { status: 401, json: { type: 'authentication_error', detail: 'Invalid personal API key.' } };
    }
    if (req.method === 'GET' && req.path === `/api/projects/${opts.projectId}/event_definitions/`) {
      const search = (req.query.get('search') ?? '').toLowerCase();
      const limit = Number(req.query.get('limit') ?? pageSize);
      const offset = Number(req.query.get('offset') ?? 0);
      const names = [...new Set(opts.events.map((e) => e.event))]
        .filter((n) => n.toLowerCase().includes(search))
        .sort();
      const page = names.slice(offset, offset + Math.min(limit, pageSize));
      const more = offset + page.length < names.length;
      return {
        json: {
          count: names.length,
          next: more ? `${req.path}?offset=${offset + page.length}` : null,
          previous: null,
          results: page.map((name, i) => ({ id: String(offset + i), name })),
        },
      };
    }
    if (req.method !== 'POST' || req.path !== `/api/projects/${opts.projectId}/query/`) {
      return { status: 404, json: { type: 'invalid_request', detail: 'Not found.' } };
    }
    const body = req.body as { query?: { kind?: string; query?: string; values?: Record<string, string> } };
    const query = body.query?.query;
    const values = body.query?.values ?? {};
    if (body.query?.kind !== 'HogQLQuery' || typeof query !== 'string') return bad('not a HogQL query');
    for (const [, name] of query.matchAll(/\{(\w+)\}/g)) {
      if (name === undefined || typeof values[name] !== 'string')
        return bad(`no value for placeholder {${name}}`);
    }
    const batch =
      /^SELECT event, count\(\)(, count\(DISTINCT person_id\))? FROM events WHERE event IN \((\{e\d+\}(?:, \{e\d+\})*)\) AND timestamp > toDateTime\(\{from\}\) AND timestamp <= toDateTime\(\{to\}\) GROUP BY event LIMIT (\d+)$/.exec(
        query,
      );
    if (batch) {
      // Many events at once, as PostHog answers GROUP BY: a row for each event with any in the window.
      const names = [...batch[2]!.matchAll(/\{(e\d+)\}/g)].map((m) => values[m[1]!]!);
      if (names.some((n) => query.includes(n))) return bad('an event name was spliced into the query');
      const limit = Number(batch[3]);
      try {
        const from = instantOf(values, 'from');
        const to = instantOf(values, 'to');
        const results = [...new Set(names)]
          .map((name) => {
            const inRange = opts.events.filter((e) => e.event === name && e.at > from && e.at <= to);
            const unique = new Set(inRange.map((e) => e.person)).size;
            return batch[1] ? [name, inRange.length, unique] : [name, inRange.length];
          })
          .filter((row) => Number(row[1]) > 0)
          .slice(0, limit);
        return { json: { results, columns: ['event', 'count()'], hasMore: false, limit, offset: 0 } };
      } catch (err) {
        return bad((err as Error).message);
      }
    }
    const event = values.event;
    if (event === undefined) return bad('the stand-in expects the event as the {event} placeholder');
    if (/'/.test(query) || query.includes(event)) return bad('the event name was spliced into the query');
    const instant = (name: string): number => instantOf(values, name);
    const ofEvent = opts.events.filter((e) => e.event === event);
    const where = ' FROM events WHERE event = {event}';
    try {
      if (query === `SELECT 1${where} LIMIT 1`) {
        return { json: { results: ofEvent.length > 0 ? [[1]] : [], columns: ['1'], hasMore: false } };
      }
      const openClosed = ' AND timestamp > toDateTime({from}) AND timestamp <= toDateTime({to})';
      const closedOpen = ' AND timestamp >= toDateTime({from}) AND timestamp < toDateTime({to})';
      if (query === `SELECT min(timestamp), count()${where}${closedOpen}`) {
        const from = instant('from');
        const to = instant('to');
        const inRange = ofEvent.filter((e) => e.at >= from && e.at < to).map((e) => e.at);
        // ClickHouse's min() of no rows is the epoch, not NULL.
        return rows([time(inRange.length ? Math.min(...inRange) : 0), inRange.length]);
      }
      const single = /^SELECT (count\(\)|count\(DISTINCT person_id\))$/;
      if (query.endsWith(`${where}${openClosed}`)) {
        const select = query.slice(0, -`${where}${openClosed}`.length);
        const from = instant('from');
        const to = instant('to');
        const inRange = ofEvent.filter((e) => e.at > from && e.at <= to);
        const aggregate = (list: PostHogEvent[], unique: boolean) =>
          unique ? new Set(list.map((e) => e.person)).size : list.length;
        if (single.test(select)) return rows([aggregate(inRange, select.includes('DISTINCT'))]);
        const columns = select.replace(/^SELECT /, '').split(/, (?=countIf|uniqExactIf)/);
        const cells = columns.map((c) => {
          const m =
            /^(countIf|uniqExactIf)\((?:person_id, )?timestamp > toDateTime\(\{(f\d+)\}\) AND timestamp <= toDateTime\(\{(t\d+)\}\)\)$/.exec(
              c,
            );
          if (!m?.[2] || !m[3]) throw new Error(`column not understood: ${c}`);
          const f = instant(m[2]);
          const t = instant(m[3]);
          return aggregate(
            inRange.filter((e) => e.at > f && e.at <= t),
            m[1] === 'uniqExactIf',
          );
        });
        return rows(cells);
      }
    } catch (err) {
      return bad((err as Error).message);
    }
    return bad(`the stand-in does not know this query: ${query}`);
  };
}
