import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import { canarySpecFrom } from '../domain/parse-canary';
import type { CanaryFailureReason, CanaryService } from '../usecases/canary-service';
import { authenticate, sendJson, type WorkspaceTokens } from './routes';

export interface CanaryApiDeps {
  /** `DONEDONE_API_TOKEN`; without it the API is off. */
  token?: string;
  /** Many workspaces: tokens from `/donedone api-token` judge canaries too (no workspace data in it). */
  workspaceTokens?: WorkspaceTokens;
  canary: CanaryService;
}

/**
 * Statuses for what is not a judgement. Argo Rollouts' web provider counts a non-2xx answer as a
 * measurement error (retried, up to its error limit), never as a failed canary: right for missing
 * data and outages, which say nothing about the canary. A judged `hold` is a 200 with `ok: false`.
 */
const STATUS: Record<CanaryFailureReason, number> = {
  'bad-query': 400,
  'no-metric': 404,
  'no-label': 404,
  'no-value': 404,
  'no-baseline': 422,
  insufficient: 422,
  unavailable: 503,
  'not-configured': 503,
};

const EXAMPLE = '/api/canary?metric=checkout_revenue_dollars_total&label=node&canary=canary&over=1h';

/**
 * `GET /api/canary?metric=…&label=node&canary=canary[&over=1h][&direction=lower]`: the judgement
 * of a canary in the shape a rollout gate reads, `{"data": {"ok": …, "difference": …, …}}`
 * (Argo Rollouts: `jsonPath: "{$.data}"`, `successCondition: result.ok`). Bearer
 * `DONEDONE_API_TOKEN`. Takes a getter because Bolt reads routes before the services exist.
 */
export function canaryApiRoutes(lazyDeps: () => CanaryApiDeps): CustomRoute[] {
  return [
    {
      path: '/api/canary',
      method: ['GET'],
      handler: (req, res: ServerResponse) => {
        const deps = lazyDeps();
        (async () => {
          if (await authenticate(req, res, deps.token, deps.workspaceTokens)) await answer(req, res, deps);
        })().catch(() => {
          if (!res.headersSent) sendJson(res, 500, { error: 'Internal error' });
        });
      },
    },
  ];
}

async function answer(req: IncomingMessage, res: ServerResponse, deps: CanaryApiDeps): Promise<void> {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const missing = ['metric', 'label', 'canary'].filter((name) => !params.get(name));
  if (missing.length > 0) {
    sendJson(res, 400, { error: `Missing ${missing.join(', ')}. Example: ${EXAMPLE}` });
    return;
  }
  const direction = (params.get('direction') ?? 'higher').toLowerCase();
  if (direction !== 'higher' && direction !== 'lower') {
    sendJson(res, 400, {
      error: `direction must be "higher" (higher is better, the default) or "lower"; got "${direction}". Example: ${EXAMPLE}&direction=lower`,
    });
    return;
  }
  const over = params.get('over');
  const spec = canarySpecFrom({
    metric: params.get('metric')!,
    label: params.get('label')!,
    value: params.get('canary')!,
    ...(over ? { over } : {}),
    higherIsBetter: direction === 'higher',
  });
  if (!spec.ok) {
    // The grammar's example is a slash command; here the query string is the example.
    sendJson(res, 400, { error: `${spec.error.split('\nExample:')[0]} Example: ${EXAMPLE}` });
    return;
  }
  const outcome = await deps.canary.judge(spec.value);
  if (!outcome.ok) {
    sendJson(res, STATUS[outcome.reason], {
      error: outcome.message.replace(/`/g, ''),
      reason: outcome.reason,
      ...(outcome.values ? { values: outcome.values } : {}),
    });
    return;
  }
  const { judgement: j, canary, others } = outcome.result;
  sendJson(res, 200, {
    data: {
      ok: j.ok,
      verdict: j.verdict,
      difference: j.difference,
      low: j.low,
      high: j.high,
      p_value: j.pValue,
      confidence: outcome.result.confidence,
      tolerance: outcome.result.tolerance * 100,
      higher_is_better: spec.value.higherIsBetter,
      canary_median: j.canaryMedian,
      baseline_median: j.baselineMedian,
      canary_points: j.canaryPoints,
      baseline_points: j.baselinePoints,
      method: j.method,
      percent_of: j.percentOf,
      metric: spec.value.metric,
      label: spec.value.label,
      canary: spec.value.value,
      over: spec.value.over,
      start: outcome.result.start.toISO(),
      end: outcome.result.end.toISO(),
      nodes: Object.fromEntries([canary, ...others].map((n) => [n.value, n.median])),
      query: outcome.result.query,
    },
  });
}
