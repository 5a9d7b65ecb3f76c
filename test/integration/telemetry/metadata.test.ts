import { PostHogClient } from '../../../src/telemetry/posthog-client';
import { PrometheusClient } from '../../../src/telemetry/prometheus-client';
import { fakeTime, type StandIn, startStandIn } from '../../support/vendor-stand-ins';

/** The descriptions suggestions read: PostHog's event definitions and Prometheus' metadata API. */
let server: StandIn;

beforeEach(async () => {
  server = await startStandIn();
});
afterEach(() => server.close());

it('reads PostHog event descriptions from every page of event definitions', async () => {
  server.answer((req) => {
    const offset = Number(req.query.get('offset') ?? '0');
    const pages = [
      [
        { id: '00000001', name: 'report exported', description: 'A report was exported to CSV or PDF.' },
        { id: '00000002', name: 'export started', description: null },
      ],
      [{ id: '00000003', name: 'invoice downloaded', description: '  An invoice PDF was downloaded. ' }],
    ];
    const page = offset === 0 ? 0 : 1;
    return {
      json: {
        count: 3,
        next: page === 0 ? `${server.url}/next` : null,
        previous: null,
        results: pages[page],
      },
    };
  });
  const time = fakeTime();
  const client = new PostHogClient({
    baseUrl: server.url,
    apiKey: 'phx_key',
    projectId: '4242',
    resilience: { sleep: time.sleep, now: time.now },
  });
  expect(await client.metadata()).toEqual(
    new Map([
      ['report exported', 'A report was exported to CSV or PDF.'],
      ['invoice downloaded', 'An invoice PDF was downloaded.'],
    ]),
  );
  expect(server.requests.map((r) => r.path)).toEqual([
    '/api/projects/4242/event_definitions/',
    '/api/projects/4242/event_definitions/',
  ]);
});

it("reads Prometheus' HELP text by metric name, one entry per metric", async () => {
  server.answer(() => ({
    json: {
      status: 'success',
      data: {
        bulk_export_total: [{ type: 'counter', help: 'Bulk exports completed.', unit: '' }],
        up: [{ type: 'gauge', help: '', unit: '' }],
      },
    },
  }));
  const client = new PrometheusClient({ baseUrl: server.url });
  expect(await client.metadata()).toEqual(new Map([['bulk_export_total', 'Bulk exports completed.']]));
  expect(server.requests[0]?.path).toBe('/api/v1/metadata');
  expect(server.requests[0]?.query.get('limit_per_metric')).toBe('1');
});
