import type { CatalogEntry } from '../../src/domain/catalog';
import { type RunningBot, startBot } from '../support/bot';
import {
  type RecordedRequest,
  type StandIn,
  type StandInReply,
  startStandIn,
} from '../support/vendor-stand-ins';

const POSTHOG_KEY = 'phx_e2eSECRETkey0001';
const HONEYCOMB_KEY = 'hcaik_e2eSECRETkey0002';

const catalog: CatalogEntry[] = [
  {
    name: 'weekly_bulk_exports',
    description: 'Bulk exports completed',
    source: 'prometheus',
    unit: 'exports',
    query: 'sum(increase(bulk_export_total[$window]))',
  },
  {
    name: 'weekly_exporters',
    description: 'People who exported',
    source: 'posthog',
    event: 'export clicked',
    math: 'unique_users',
    unit: 'people',
  },
];

/** PostHog: HogQL answers with one number; event definitions list two events. */
function posthog(state: { down: boolean }) {
  return (req: RecordedRequest): StandInReply => {
    if (req.headers.authorization !== `Bearer ${POSTHOG_KEY}`)
      return { status: 401, json: { detail: 'bad key' } };
    if (state.down) return { status: 500, json: { detail: 'Internal server error' } };
    if (req.method === 'POST' && req.path === '/api/projects/42/query/') {
      const { query, values } = (req.body as { query: { query: string; values: Record<string, string> } })
        .query;
      const unique = query.includes('DISTINCT');
      // Only `export clicked` was ever sent; any other event counts 0, as PostHog answers.
      const count = values.event !== 'export clicked' ? 0 : unique ? 90 : 250;
      return {
        json: { results: [[count]], columns: ['c'], types: [['c', 'UInt64']], hasMore: false },
      };
    }
    if (req.method === 'GET' && req.path === '/api/projects/42/event_definitions/') {
      return {
        json: {
          count: 2,
          next: null,
          previous: null,
          results: [
            { id: '1', name: 'export clicked' },
            { id: '2', name: 'signup' },
          ],
        },
      };
    }
    return { status: 404, json: {} };
  };
}

/**
 * Honeycomb: create a query, create a query result, complete on the first poll. Only
 * `checkout completed` was ever sent: a query for any other event has no rows.
 */
function honeycomb() {
  let n = 0;
  const specs = new Map<string, { filters?: { value?: unknown }[] }>();
  const results = new Map<string, string>();
  return (req: RecordedRequest): StandInReply => {
    if (req.headers['x-honeycomb-team'] !== HONEYCOMB_KEY)
      return { status: 401, json: { error: 'unknown API key' } };
    if (req.method === 'POST' && req.path === '/1/queries/web') {
      const id = `q${++n}`;
      specs.set(id, req.body as { filters?: { value?: unknown }[] });
      return { json: { id, ...(req.body as object) } };
    }
    if (req.method === 'POST' && req.path === '/1/query_results/web') {
      const id = `r${++n}`;
      results.set(id, (req.body as { query_id: string }).query_id);
      return { status: 201, json: { id, complete: false } };
    }
    if (req.method === 'GET' && req.path.startsWith('/1/query_results/web/')) {
      const id = req.path.split('/').at(-1) ?? '';
      const spec = specs.get(results.get(id) ?? '');
      if (!spec) return { status: 404, json: { error: 'query result not found' } };
      const sent = spec.filters?.some((f) => f.value === 'checkout completed');
      const rows = sent ? [{ data: { COUNT: 1200 } }] : [];
      return { json: { id, complete: true, data: { results: rows }, links: {} } };
    }
    return { status: 404, json: { error: 'not found' } };
  };
}

let bot: RunningBot;
let ph: StandIn;
let hc: StandIn;
const phState = { down: false };

beforeEach(async () => {
  phState.down = false;
  ph = await startStandIn(posthog(phState));
  hc = await startStandIn(honeycomb());
  bot = await startBot({
    catalog,
    env: {
      POSTHOG_URL: ph.url,
      POSTHOG_API_KEY: POSTHOG_KEY,
      POSTHOG_PROJECT_ID: '42',
      HONEYCOMB_URL: hc.url,
      HONEYCOMB_API_KEY: HONEYCOMB_KEY,
      HONEYCOMB_DATASET: 'web',
    },
  });
});

afterEach(async () => {
  await bot.stop();
  await ph.close();
  await hc.close();
});

async function proposeAndCheck(expectation: string): Promise<{ text: string; blocks: string }> {
  const n = (await bot.donedone.store.list('T1')).length + 1;
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(`propose Feature ${n} expect ${expectation}`);
  expect(body).toBe('');
  await bot.slackApi.waitFor(() => bot.slackApi.responses.length > before);
  await bot.slack.command(`check F-${n}`);
  const post = await bot.slackApi.waitFor(() =>
    bot.slackApi.callsTo('chat.postMessage').find((c) => String(c.body.text).startsWith(`F-${n}: `)),
  );
  return { text: String(post.body.text), blocks: JSON.stringify(post.body.blocks) };
}

it('measures one feature from each source: a Prometheus catalog metric, PostHog and Honeycomb', async () => {
  const prom = await proposeAndCheck('weekly_bulk_exports >= 200 per week');
  expect(prom.text).toBe('F-1: on track. Expected >= 200 exports per week, actual 336 exports.');

  const posthogCheck = await proposeAndCheck('posthog:"export clicked" >= 200 per week');
  expect(posthogCheck.text).toBe('F-2: on track. Expected >= 200 per week, actual 250.');
  const hogql = ph.requests
    .filter((r) => r.path === '/api/projects/42/query/')
    .map((r) => r.body as { query: { query: string; values: Record<string, string> } });
  // The event name travels as a HogQL placeholder value, never spliced into the query text.
  expect(hogql.some((b) => b.query.values && Object.values(b.query.values).includes('export clicked'))).toBe(
    true,
  );
  expect(hogql.every((b) => !b.query.query.includes('export clicked'))).toBe(true);

  const unique = await proposeAndCheck('weekly_exporters >= 100 per week');
  expect(unique.text).toBe('F-3: at risk. Expected >= 100 people per week, actual 90 people.');

  const hcCheck = await proposeAndCheck('honeycomb:"checkout completed" >= 1000 per week');
  expect(hcCheck.text).toBe('F-4: on track. Expected >= 1k per week, actual 1.2k.');
  expect(hc.requests.some((r) => JSON.stringify(r.body).includes('checkout completed'))).toBe(true);
});

it.each([
  ['PostHog', 'posthog:"export v2 clicked"'],
  ['Honeycomb', 'honeycomb:"checkout v2 completed"'],
])(
  'warns that a %s event never sent is not instrumented, and judges it no data, never missed',
  async (_, metric) => {
    await bot.slack.command(`propose Never sent expect ${metric} >= 200 per week`);
    const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    expect(String(reply.body.text)).toContain('not instrumented');
    expect(await bot.donedone.store.get('T1', 'F-1')).toMatchObject({ instrumented: 'no' });
    await bot.slack.command('check F-1');
    const post = await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.postMessage').find((c) => String(c.body.text).startsWith('F-1: ')),
    );
    expect(String(post.body.text)).toMatch(/^F-1: no data\b/);
    expect((await bot.donedone.checks.list('T1', 'F-1'))[0]).toMatchObject({ verdict: 'no data' });
  },
);

it('refuses a per month Honeycomb window with a plain explanation, not a wrong number', async () => {
  const { body } = await bot.slack.command(
    'propose X expect honeycomb:"checkout completed" >= 1000 per month',
  );
  expect(JSON.parse(body).text).toContain('Honeycomb answers query results only for the last 7 days');
  expect(await bot.donedone.store.list('T1')).toEqual([]);
});

it('a PostHog outage gives unknown, names the API, and never shows the key', async () => {
  await bot.slack.command('propose Y expect posthog:"export clicked" >= 200 per week');
  await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
  phState.down = true;
  // A new moment: the answer for the proposal's moment is shared from the cache, as it should be.
  bot.clock.now = bot.clock.now.plus({ minutes: 1 });
  await bot.slack.command('check F-1');
  const post = await bot.slackApi
    .waitFor(
      () =>
        bot.slackApi.callsTo('chat.postMessage').find((c) => String(c.body.text).startsWith('F-1: unknown')),
      25_000,
    )
    .catch((err) => {
      throw new Error(
        `${err.message} ${JSON.stringify(bot.slackApi.calls.map((c) => c.body.text))} ${JSON.stringify(bot.slackApi.responses.map((r) => r.body.text))} ${ph.requests.length}`,
      );
    });
  const blocks = JSON.stringify(post.body.blocks);
  expect(blocks).toContain('posthog');
  expect(blocks).toContain('This is not a miss');
  expect(JSON.stringify(bot.slackApi.calls)).not.toContain(POSTHOG_KEY);
  expect(JSON.stringify(bot.slackApi.responses)).not.toContain(POSTHOG_KEY);
  expect((await bot.donedone.checks.list('T1', 'F-1'))[0]).toMatchObject({ verdict: 'unknown' });
});

it('`/donedone metrics` lists the catalog first, then Prometheus names and PostHog events', async () => {
  await bot.slack.command('metrics export');
  const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[0], 30_000);
  const text = JSON.stringify(reply.body.blocks);
  expect(reply.body.response_type).toBe('ephemeral');
  expect(text.indexOf('weekly_bulk_exports')).toBeLessThan(text.indexOf('bulk_export_total'));
  expect(text).toContain('bulk_export_total');
  expect(text).toContain('posthog:\\"export clicked\\"');
  expect(text).not.toContain('signup');
});

it('the modal’s metric field suggests what was typed, the catalog and each source’s names', async () => {
  const { res, body } = await bot.slack.interactive({
    type: 'block_suggestion',
    action_id: 'value',
    block_id: 'metric',
    value: 'export',
    team: { id: 'T1', domain: 'acme' },
    user: { id: 'U1', team_id: 'T1' },
    api_app_id: 'A1',
    container: { type: 'view', view_id: 'V1' },
    view: { id: 'V1', type: 'modal', callback_id: 'propose_modal', private_metadata: '{}' },
  });
  expect(res.status).toBe(200);
  const values = (JSON.parse(body) as { options: { value: string }[] }).options.map((o) => o.value);
  expect(values.slice(0, 3)).toEqual(['export', 'weekly_bulk_exports', 'weekly_exporters']);
  expect(values).toContain('bulk_export_total');
  expect(values).toContain('posthog:"export clicked"');
});
