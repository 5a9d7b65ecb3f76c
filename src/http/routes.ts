import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Redis } from 'ioredis';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** `GET /healthz`: 200 when Redis answers within a second, 503 otherwise. */
export function healthRoute(redis: Redis): CustomRoute {
  return {
    path: '/healthz',
    method: ['GET'],
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('timeout')), 1000).unref(),
      );
      Promise.race([redis.ping(), timeout])
        .then(() => sendJson(res, 200, { ok: true, redis: 'up' }))
        .catch(() => sendJson(res, 503, { ok: false, redis: 'down' }));
    },
  };
}

function authorised(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The HTTP API's door: 404 when the API is off (no DONEDONE_API_TOKEN), 401 without the right
 * bearer token (compared in constant time). True when it answered, so the caller stops.
 */
export function refuseUnauthorised(
  req: IncomingMessage,
  res: ServerResponse,
  token: string | undefined,
): boolean {
  if (!token) {
    sendJson(res, 404, { error: 'The HTTP API is off: set DONEDONE_API_TOKEN to turn it on.' });
    return true;
  }
  if (!authorised(req, token)) {
    res.setHeader('www-authenticate', 'Bearer');
    sendJson(res, 401, { error: 'Send Authorization: Bearer <DONEDONE_API_TOKEN>.' });
    return true;
  }
  return false;
}
