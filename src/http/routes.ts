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
