/**
 * A local stand-in for a SaaS telemetry API (PostHog, Honeycomb): a node:http server on
 * 127.0.0.1 that records each request and answers with what the test's handler says, in the
 * vendor's documented shapes. Nothing but Node is needed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
