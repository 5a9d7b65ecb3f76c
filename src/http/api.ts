import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { ParamsIncomingMessage } from '@slack/bolt/dist/receivers/ParamsIncomingMessage';
import { DateTime } from 'luxon';
import type { Check, Feature } from '../domain/model';
import { normaliseFeatureId } from '../domain/model';
import { isGood } from '../domain/verdict';
import type { AuditStore } from '../store/audit-store';
import type { FeatureStore } from '../store/feature-store';
import { actingAs } from '../usecases/actor';
import type { FeatureService } from '../usecases/feature-service';
import type { GuardService } from '../usecases/guard-service';
import type { WatchService } from '../usecases/watch-service';
import { authenticate, sendJson, type WorkspaceTokens } from './routes';

export interface ApiDeps {
  /** DONEDONE_API_TOKEN: the operator's token, for every workspace (`?team=`). */
  token?: string;
  /** Many workspaces: tokens from `/donedone api-token`, each for its own workspace. */
  workspaceTokens?: WorkspaceTokens;
  /** DONEDONE_GATE_GRACE_HOURS: after launch, no data or no first use is inconclusive, not a failure. */
  gateGraceHours?: number;
  store: FeatureStore;
  features: FeatureService;
  watch: WatchService;
  /** Every change of a feature, returned as `history` by `GET /api/features/F-3`. */
  audit?: AuditStore;
  /** Guardrails: a breached one fails the gate; listed in a feature's detail. */
  guards?: Pick<GuardService, 'breachedOf' | 'statesOf'>;
}

async function readJson(req: IncomingMessage, limit = 16_384): Promise<unknown> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('body too large');
  }
  return body.trim() ? JSON.parse(body) : {};
}

function paramId(req: ParamsIncomingMessage): string {
  const id = req.params?.id;
  return Array.isArray(id) ? (id[0] ?? '') : (id ?? '');
}

type Handler = (
  req: ParamsIncomingMessage,
  res: ServerResponse,
  team: string,
  deps: ApiDeps,
) => Promise<void>;

/**
 * The gate's answer for Argo Rollouts' web provider (`jsonPath: "{$.data}"`,
 * `successCondition: result.ok`, `failureCondition: "!result.ok && !result.inconclusive"`).
 * Inconclusive: `too early`, and `no data` or no first use yet within the grace hours after launch,
 * so an analysis asked right after a deploy neither passes nor fails.
 */
export function gateAnswer(
  feature: Feature,
  check: Check,
  now: DateTime,
  graceHours: number,
  breached: string[] = [],
): {
  ok: boolean;
  inconclusive: boolean;
  verdict: string;
  actual: number | null;
  expected: number;
  breached?: string[];
} {
  const launched = feature.launchedAt ? DateTime.fromISO(feature.launchedAt, { zone: 'utc' }) : null;
  const inGrace = launched !== null && now.diff(launched).as('hours') < graceHours;
  const noFirstUse = !feature.firstUseAt && !feature.usedBeforeLaunch;
  const inconclusive =
    check.verdict === 'too early' || (inGrace && (check.verdict === 'no data' || noFirstUse));
  // A breached guardrail fails the analysis, whatever the expectation says (Argo Rollouts aborts).
  if (breached.length > 0) {
    return {
      ok: false,
      inconclusive: false,
      verdict: check.verdict,
      actual: check.value,
      expected: feature.expectation!.target,
      breached,
    };
  }
  return {
    ok: isGood(check.verdict) && !inconclusive,
    inconclusive,
    verdict: check.verdict,
    actual: check.value,
    expected: feature.expectation!.target,
  };
}

/**
 * The HTTP API for deploy pipelines and dashboards (PRODUCT.md). Bearer `DONEDONE_API_TOKEN`
 * (with several workspaces, `?team=T…` says which), or a workspace's own token from
 * `/donedone api-token` (that workspace only; another `?team=` is 403). Without either the API is off.
 */
export function apiRoutes(lazyDeps: () => ApiDeps): CustomRoute[] {
  const guard =
    (handler: Handler) =>
    (req: ParamsIncomingMessage, res: ServerResponse): void => {
      const deps = lazyDeps();
      (async () => {
        const caller = await authenticate(req, res, deps.token, deps.workspaceTokens);
        if (!caller) return;
        const url = new URL(req.url ?? '/', 'http://localhost');
        const asked = url.searchParams.get('team');
        if (caller.kind === 'workspace') {
          // A workspace's token sees its own workspace only: another one is forbidden, not hidden
          // (the caller knows which workspace its token belongs to).
          if (asked && asked !== caller.team) {
            sendJson(res, 403, {
              error: `This token belongs to workspace ${caller.team} and sees only its features; leave out ?team= or use ?team=${caller.team}.`,
            });
            return;
          }
          await handler(req, res, caller.team, deps);
          return;
        }
        const teams = await deps.store.teams();
        const team = asked ?? (teams.length === 1 ? teams[0] : undefined);
        if (!team) {
          sendJson(res, 400, {
            error:
              teams.length === 0
                ? 'No features yet.'
                : `Several workspaces use this bot: add ?team= one of ${teams.join(', ')}.`,
          });
          return;
        }
        await handler(req, res, team, deps);
      })().catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { error: 'Internal error' });
        void err;
      });
    };

  const featureOr404 = async (
    req: ParamsIncomingMessage,
    res: ServerResponse,
    team: string,
    deps: ApiDeps,
  ): Promise<Feature | null> => {
    const id = normaliseFeatureId(paramId(req));
    const feature = id ? await deps.store.get(team, id) : null;
    if (!feature) sendJson(res, 404, { error: `No feature ${paramId(req)}.` });
    return feature;
  };

  const summary = (f: Feature) => ({
    id: f.id,
    title: f.title,
    owner: f.ownerId,
    status: f.status,
    expectation: f.expectation?.text ?? null,
    launchedAt: f.launchedAt ?? null,
    firstUseAt: f.firstUseAt ?? null,
    verdict: f.lastVerdict ?? null,
  });

  return [
    {
      path: '/api/features',
      method: ['GET'],
      handler: guard(async (_req, res, team, deps) => {
        sendJson(res, 200, { data: (await deps.store.list(team)).map(summary) });
      }),
    },
    {
      path: '/api/features/:id',
      method: ['GET'],
      handler: guard(async (req, res, team, deps) => {
        const feature = await featureOr404(req, res, team, deps);
        if (!feature) return;
        const checks = await deps.store.checks(team, feature.id);
        const guards = deps.guards ? await deps.guards.statesOf(feature) : [];
        sendJson(res, 200, {
          data: {
            ...summary(feature),
            guards: guards.map((g) => ({
              guard: g.guard.text,
              autoPause: g.guard.autoPause === true,
              status: g.state?.status ?? 'ok',
              value: g.state?.lastValue ?? null,
            })),
            pauses: feature.pauses ?? [],
            hypothesis: feature.hypothesis ?? null,
            expectation: feature.expectation ?? null,
            checks,
            decision: feature.decision ?? null,
            history: deps.audit ? await deps.audit.list(team, feature.id) : [],
          },
        });
      }),
    },
    {
      path: '/api/features/:id/launch',
      method: ['POST'],
      handler: guard(async (req, res, team, deps) => {
        let body: { at?: unknown };
        try {
          body = (await readJson(req)) as { at?: unknown };
        } catch {
          sendJson(res, 400, { error: 'The body must be JSON, e.g. {"at": "2026-10-01"}.' });
          return;
        }
        if (body.at !== undefined && typeof body.at !== 'string') {
          sendJson(res, 400, { error: '"at" must be a date or date-time string, e.g. "2026-10-01".' });
          return;
        }
        const id = normaliseFeatureId(paramId(req)) ?? '';
        const at = body.at;
        const result = await actingAs('api', () => deps.watch.launch(team, id, at));
        if (!result.ok) {
          sendJson(res, /no feature/i.test(result.error) ? 404 : 400, { error: result.error });
          return;
        }
        const { feature, changed } = result.value;
        sendJson(res, 200, { data: { id: feature.id, launchedAt: feature.launchedAt, changed } });
      }),
    },
    {
      path: '/api/features/:id/gate',
      method: ['GET'],
      handler: guard(async (req, res, team, deps) => {
        const feature = await featureOr404(req, res, team, deps);
        if (!feature) return;
        if (!feature.expectation) {
          sendJson(res, 409, { error: `${feature.id} has no expectation to judge.` });
          return;
        }
        const now = deps.features.now();
        const check = await deps.features.measure(feature, now, 'manual');
        const breached = deps.guards ? await deps.guards.breachedOf(feature) : [];
        const data = gateAnswer(feature, check, now, deps.gateGraceHours ?? 24, breached);
        // An outage is not a failed rollout: answer 503 so the analysis counts an error, not a failure.
        sendJson(res, check.verdict === 'unknown' && breached.length === 0 ? 503 : 200, { data });
      }),
    },
  ];
}
