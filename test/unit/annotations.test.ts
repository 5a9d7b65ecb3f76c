import { Annotator } from '../../src/annotations/annotator';
import { GrafanaAnnotations } from '../../src/annotations/grafana-annotations';
import { PostHogAnnotations } from '../../src/annotations/posthog-annotations';
import type { Check, Feature } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { type StandIn, startStandIn } from '../support/vendor-stand-ins';

const GRAFANA_TOKEN = 'glsa_test-service-account-token';
const POSTHOG_KEY = 'phx_test-personal-api-key';

function expectationOf(text: string) {
  const parsed = parseExpectation(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

const expectation = expectationOf('bulk_export_total >= 200 per week within 30 days');
const feature: Feature = {
  id: 'F-3',
  team: 'T1',
  title: 'Bulk export',
  ownerId: 'U1',
  proposedBy: 'U1',
  status: 'launched',
  createdAt: '2026-09-20T10:00:00.000Z',
  expectation,
  launchedAt: '2026-10-01T00:00:00.000Z',
};
const check: Check = {
  at: '2026-10-31T00:00:00.000Z',
  kind: 'final',
  value: 336,
  verdict: 'met',
  query: 'sum(increase(bulk_export_total[7d]))',
};

/** A logger that keeps what it was told, to check what an operator would read. */
function recordingLog() {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const record = (fields: Record<string, unknown>, message: string) => {
    lines.push({ fields, message });
  };
  return { lines, log: { warn: record, debug: () => undefined } as never };
}

let grafana: StandIn;
let posthog: StandIn;
beforeEach(async () => {
  grafana = await startStandIn(() => ({ status: 200, json: { id: 1, message: 'Annotation added' } }));
  posthog = await startStandIn(() => ({ status: 201, json: { id: 7, content: 'x' } }));
});
afterEach(async () => {
  await grafana.close();
  await posthog.close();
});

function annotator(timeoutMs = 2000) {
  const { lines, log } = recordingLog();
  const sinks = [
    // A Grafana served under a sub-path, as behind many reverse proxies.
    new GrafanaAnnotations({ url: `${grafana.url}/grafana/`, token: GRAFANA_TOKEN }),
    new PostHogAnnotations({ url: posthog.url, apiKey: POSTHOG_KEY, projectId: '4242' }),
  ];
  return { lines, annotator: new Annotator({ sinks, log, timeoutMs }) };
}

describe('Grafana and PostHog annotations', () => {
  it('posts a launch to both vendors in their own shapes, with their own credentials', async () => {
    await annotator().annotator.launched(feature);

    expect(grafana.requests).toHaveLength(1);
    const g = grafana.requests[0]!;
    expect(g.method).toBe('POST');
    expect(g.path).toBe('/grafana/api/annotations');
    expect(g.headers.authorization).toBe(`Bearer ${GRAFANA_TOKEN}`);
    expect(g.headers['content-type']).toBe('application/json');
    expect(g.body).toEqual({
      time: Date.parse(feature.launchedAt!),
      tags: ['donedone', 'F-3', 'launch'],
      text: `F-3 launched: Bulk export (expects ${expectation.text})`,
    });

    expect(posthog.requests).toHaveLength(1);
    const p = posthog.requests[0]!;
    expect(p.method).toBe('POST');
    expect(p.path).toBe('/api/projects/4242/annotations/');
    expect(p.headers.authorization).toBe(`Bearer ${POSTHOG_KEY}`);
    expect(p.body).toEqual({
      content: `F-3 launched: Bulk export (expects ${expectation.text})`,
      date_marker: feature.launchedAt,
      scope: 'project',
      creation_type: 'USR',
    });
  });

  it('posts a verdict at the moment measured, tagged verdict', async () => {
    await annotator().annotator.judged(feature, check);
    expect(grafana.requests[0]!.body).toEqual({
      time: Date.parse(check.at),
      tags: ['donedone', 'F-3', 'verdict'],
      text: `F-3 met: Bulk export, actual 336 against ${expectation.text}`,
    });
    expect((posthog.requests[0]!.body as { date_marker: string }).date_marker).toBe(check.at);
  });

  it.each([401, 500])(
    'a %i is logged with the vendor and status, never thrown, never with the token',
    async (status) => {
      grafana.answer(() => ({ status, json: { message: 'nope' } }));
      const { annotator: a, lines } = annotator();
      await expect(a.launched(feature)).resolves.toBeUndefined();
      // PostHog still got its annotation.
      expect(posthog.requests).toHaveLength(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.fields).toMatchObject({
        sink: 'grafana',
        feature: 'F-3',
        reason: `grafana answered ${status}`,
      });
      const logged = JSON.stringify(lines);
      expect(logged).not.toContain(GRAFANA_TOKEN);
      expect(logged).not.toContain(POSTHOG_KEY);
    },
  );

  it('a vendor that never answers holds the caller no longer than the time-out', async () => {
    grafana.answer(() => ({ hang: true }));
    posthog.answer(() => ({ hang: true }));
    const { annotator: a, lines } = annotator(300);
    const started = Date.now();
    await a.judged(feature, check);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect(lines.map((l) => l.fields.reason)).toEqual(['no answer in 300 ms', 'no answer in 300 ms']);
  });

  it('an unreachable vendor is logged like any other failure', async () => {
    const closed = await startStandIn();
    const url = closed.url;
    await closed.close();
    const { lines, log } = recordingLog();
    const a = new Annotator({ sinks: [new GrafanaAnnotations({ url, token: GRAFANA_TOKEN })], log });
    await expect(a.launched(feature)).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields.sink).toBe('grafana');
  });

  it('with no vendor configured it is off and sends nothing', async () => {
    const a = new Annotator({ sinks: [], log: recordingLog().log });
    expect(a.enabled).toBe(false);
    await a.launched(feature);
    expect(grafana.requests).toHaveLength(0);
  });
});
