import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import { sendJson } from './routes';

/**
 * A plain HTTP server for routes at fixed paths (health probes, /metrics), for a process that
 * takes no Slack requests (`DONEDONE_ROLE=worker`) and so runs no Bolt receiver.
 */
export async function serveRoutes(routes: CustomRoute[], port: number): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes.find((r) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      return r.path === path && methods.some((m) => m.toUpperCase() === req.method);
    });
    if (!route) {
      sendJson(res, 404, { error: 'A worker serves /livez, /readyz, /healthz and /metrics only.' });
      return;
    }
    void Promise.resolve(route.handler(req as never, res)).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return server;
}
