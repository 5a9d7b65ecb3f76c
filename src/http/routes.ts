import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { RedisClient } from '../store/redis-connection';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Redis answers PING within `ms`, or the promise rejects. */
function redisAnswers(redis: RedisClient, ms = 1000): Promise<unknown> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('timeout')), ms).unref(),
  );
  return Promise.race([redis.ping(), timeout]);
}

/** A probe at `path`: 200 when Redis answers within a second, 503 otherwise. */
function redisProbe(path: string, redis: RedisClient): CustomRoute {
  return {
    path,
    method: ['GET'],
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      redisAnswers(redis)
        .then(() => sendJson(res, 200, { ok: true, redis: 'up' }))
        .catch(() => sendJson(res, 503, { ok: false, redis: 'down' }));
    },
  };
}

/**
 * `GET /healthz`: 200 when Redis answers within a second, 503 otherwise. Kept as it was for
 * compatibility (Docker HEALTHCHECKs and monitors already point at it); it means what `/readyz` means.
 */
export function healthRoute(redis: RedisClient): CustomRoute {
  return redisProbe('/healthz', redis);
}

/**
 * `GET /livez`: 200 while the process serves HTTP at all. It never asks Redis, so an orchestrator
 * does not restart a healthy bot because Redis is away (restarting cannot bring Redis back).
 */
export function livenessRoute(): CustomRoute {
  return {
    path: '/livez',
    method: ['GET'],
    handler: (_req: IncomingMessage, res: ServerResponse) => sendJson(res, 200, { ok: true }),
  };
}

/** `GET /readyz`: ready to take work, i.e. Redis (the store and the queues) answers; else 503. */
export function readinessRoute(redis: RedisClient): CustomRoute {
  return redisProbe('/readyz', redis);
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

/** Who called the HTTP API: the operator (any workspace, `?team=`) or one workspace's token. */
export type ApiCaller = { kind: 'operator' } | { kind: 'workspace'; team: string };

/** Workspace API tokens (`/donedone api-token`), as the API's door sees them. */
export interface WorkspaceTokens {
  teamOf(token: string): Promise<string | null>;
}

function bearerOf(req: IncomingMessage): string {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() : '';
}

/**
 * The HTTP API's door with workspace tokens: DONEDONE_API_TOKEN is the operator's (every
 * workspace, with `?team=`); a token from `/donedone api-token` serves its own workspace only.
 * Answers 404 when the API is off (neither kind exists), 401 for a missing or unknown token, and
 * resolves null when it answered, so the caller stops.
 */
export async function authenticate(
  req: IncomingMessage,
  res: ServerResponse,
  token: string | undefined,
  workspaceTokens: WorkspaceTokens | undefined,
): Promise<ApiCaller | null> {
  if (!workspaceTokens) return refuseUnauthorised(req, res, token) ? null : { kind: 'operator' };
  if (token && authorised(req, token)) return { kind: 'operator' };
  const given = bearerOf(req);
  let team: string | null = null;
  try {
    team = given ? await workspaceTokens.teamOf(given) : null;
  } catch {
    sendJson(res, 503, { error: 'The store did not answer, so the token could not be checked. Try again.' });
    return null;
  }
  if (team) return { kind: 'workspace', team };
  res.setHeader('www-authenticate', 'Bearer');
  sendJson(res, 401, {
    error:
      "Send Authorization: Bearer <token>: a workspace's token from `/donedone api-token`, or the operator's DONEDONE_API_TOKEN.",
  });
  return null;
}
