import { type RunningBot, startBot } from '../support/bot';

const API_TOKEN = 'test-api-token-0123456789abcdef';
const CHECKOUT = 'checkout_revenue_dollars_total';
const SEARCH = 'search_revenue_dollars_total';
let bot: RunningBot;

beforeAll(async () => {
  bot = await startBot({ env: { DONEDONE_API_TOKEN: API_TOKEN } });
});
afterAll(async () => {
  await bot.stop();
});
beforeEach(() => {
  bot.slackApi.reset();
});

function api(query: string, token: string | null = API_TOKEN, target: RunningBot = bot) {
  return fetch(`${target.url}/api/canary?${query}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

async function reply(): Promise<string> {
  const r = await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
  expect(r.body.response_type).toBe('ephemeral');
  return `${String(r.body.text)}\n${JSON.stringify(r.body.blocks ?? [])}`;
}

/** The canary earns 0.7 of its peers' dollars (test/fixtures/history.ts): a true shift of −30%. */
const CHECKOUT_DATA = {
  ok: false,
  verdict: 'hold',
  difference: expect.closeTo(-29.72, 2),
  low: expect.closeTo(-30.64, 2),
  high: expect.closeTo(-28.82, 2),
  p_value: expect.closeTo(0, 15),
  confidence: 0.98,
  tolerance: 10,
  higher_is_better: true,
  canary_median: expect.closeTo(42.29, 2),
  baseline_median: expect.closeTo(59.97, 2),
  canary_points: 61,
  baseline_points: 61,
  method: 'normal',
  percent_of: 'baseline median',
  metric: CHECKOUT,
  label: 'node',
  canary: 'canary',
  over: '1h',
  start: '2026-10-31T23:00:00.000Z',
  end: '2026-11-01T00:00:00.000Z',
  nodes: {
    canary: expect.closeTo(42.29, 2),
    n1: expect.closeTo(60.08, 2),
    n2: expect.closeTo(59.25, 2),
    n3: expect.closeTo(60.38, 2),
  },
  query: `sum by (node) (rate(${CHECKOUT}{node!=""}[1m])) * 60`,
};

describe('GET /api/canary', () => {
  it('holds a canary that earns 30% less, in the shape a rollout gate reads', async () => {
    const res = await api(`metric=${CHECKOUT}&label=node&canary=canary&over=1h`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { low: number; high: number; p_value: number } };
    expect(body).toEqual({ data: CHECKOUT_DATA });
    // The interval covers the true shift, and lies wholly beyond the 10% tolerance.
    expect(body.data.low).toBeLessThan(-30);
    expect(body.data.high).toBeGreaterThan(-30);
    expect(body.data.p_value).toBeLessThan(1e-15);
  });

  it('passes a canary like the others: the interval covers 0', async () => {
    const res = await api(`metric=${SEARCH}&label=node&canary=canary`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: Record<string, unknown> };
    expect(data).toMatchObject({
      ok: true,
      verdict: 'pass',
      difference: expect.closeTo(0.04, 2),
      low: expect.closeTo(-0.92, 2),
      high: expect.closeTo(1.02, 2),
      p_value: expect.closeTo(0.914, 3),
      over: '1h',
      canary_points: 61,
    });
    expect(data.low as number).toBeLessThan(0);
    expect(data.high as number).toBeGreaterThan(0);
  });

  it('reads lower-is-better: the same 30% drop is then a pass', async () => {
    const res = await api(`metric=${CHECKOUT}&label=node&canary=canary&direction=lower`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      data: { ...CHECKOUT_DATA, ok: true, verdict: 'pass', higher_is_better: false },
    });
  });

  it('refuses a missing or wrong token with 401, and judges nothing', async () => {
    const query = `metric=${CHECKOUT}&label=node&canary=canary`;
    for (const token of [null, 'wrong-token-0123456789abcdef', `${API_TOKEN}x`]) {
      const res = await api(query, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toEqual({ error: 'Send Authorization: Bearer <DONEDONE_API_TOKEN>.' });
    }
  });

  it.each([
    ['label=node&canary=canary', 'Missing metric.'],
    [`metric=${CHECKOUT}`, 'Missing label, canary.'],
    [
      `metric=${encodeURIComponent(`${CHECKOUT}{node="canary"}`)}&label=node&canary=canary`,
      'is not a Prometheus metric name',
    ],
    [`metric=${CHECKOUT}&label=${encodeURIComponent('node"}')}&canary=canary`, 'is not a label name'],
    [`metric=${CHECKOUT}&label=node&canary=canary&over=1y`, '`1y` is not a duration'],
    [`metric=${CHECKOUT}&label=node&canary=canary&over=2m`, 'too short'],
    [`metric=${CHECKOUT}&label=node&canary=canary&direction=sideways`, 'direction must be'],
  ])('answers bad parameters (%s) with 400 and an example', async (query, message) => {
    const res = await api(query);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: string };
    expect(error).toContain(message);
    expect(error).toContain('/api/canary?metric=');
  });

  it('answers an unknown metric, label or label value with 404 and what was found', async () => {
    const metric = await api('metric=no_such_metric_total&label=node&canary=canary');
    expect(metric.status).toBe(404);
    expect(await metric.json()).toMatchObject({
      reason: 'no-metric',
      error: expect.stringContaining('Prometheus has no series called no_such_metric_total in the last 1h'),
    });
    const label = await api(`metric=${CHECKOUT}&label=pod&canary=canary`);
    expect(label.status).toBe(404);
    expect(await label.json()).toMatchObject({
      reason: 'no-label',
      error: expect.stringContaining(`${CHECKOUT} has no label pod`),
    });
    const value = await api(`metric=${CHECKOUT}&label=node&canary=n9`);
    expect(value.status).toBe(404);
    expect(await value.json()).toEqual({
      reason: 'no-value',
      values: ['canary', 'n1', 'n2', 'n3'],
      error: `No series of ${CHECKOUT} has node="n9" in the last 1h. The values seen are canary, n1, n2, n3.`,
    });
  });

  it('answers too few points with 422: no verdict, an error to retry', async () => {
    const res = await api(`metric=${CHECKOUT}&label=node&canary=canary&over=5m`);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      reason: 'insufficient',
      error:
        'Not enough data to judge: the canary has 6 points and the baseline 6 points over the window; at least 10 are needed in each (one a minute). Judge over a longer window, like over 1h.',
    });
  });

  it('is off (404) without DONEDONE_API_TOKEN, and 503 when Prometheus cannot be reached', async () => {
    const off = await startBot();
    try {
      const res = await api(`metric=${CHECKOUT}&label=node&canary=canary`, API_TOKEN, off);
      expect(res.status).toBe(404);
    } finally {
      await off.stop();
    }
    const down = await startBot({
      env: { DONEDONE_API_TOKEN: API_TOKEN, PROMETHEUS_URL: 'http://127.0.0.1:9' },
    });
    try {
      const res = await api(`metric=${CHECKOUT}&label=node&canary=canary`, API_TOKEN, down);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ reason: 'unavailable' });
    } finally {
      await down.stop();
    }
  });
});

describe('/donedone canary', () => {
  it('posts a hold in the channel with the difference, interval and per-node rates, and the chart in its thread', async () => {
    const { body } = await bot.slack.command(`canary ${CHECKOUT} node=canary over 1h`);
    expect(body).toBe('');
    const post = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.postMessage')[0]);
    expect(post.body.channel).toBe('C1');
    expect(post.body.text).toBe(
      `Hold: node=canary is 29.7% lower than the other node values on ${CHECKOUT} over the last 1h (\u221229.7%, 98% CI \u221230.6% to \u221228.8%).`,
    );
    const blocks = JSON.stringify(post.body.blocks);
    expect(blocks).toContain(
      ':octagonal_sign: *Hold*: `node=canary` is 29.7% lower than the other node values',
    );
    expect(blocks).toContain(
      'Difference *\u221229.7%* (98% confidence interval \u221230.6% to \u221228.8%), p < 0.001: the whole interval is more than 10% lower.',
    );
    expect(blocks).toContain('• `canary` (canary): 42.3 $/min');
    expect(blocks).toContain('• `n1`: 60.1 $/min');
    expect(blocks).toContain('• `n2`: 59.3 $/min');
    expect(blocks).toContain('• `n3`: 60.4 $/min');
    expect(blocks).toContain('61 canary and 61 baseline points, one a minute, 31 Oct 23:00–1 Nov 00:00 UTC');
    expect(blocks).toContain('Asked by <@U1>');
    const complete = await bot.slackApi.waitFor(
      () => bot.slackApi.callsTo('files.completeUploadExternal')[0],
    );
    expect(complete.body.channel_id).toBe('C1');
    // Under the judgement just posted: the stand-in numbers its answers, and the post came first.
    expect(complete.body.thread_ts).toMatch(/^1793491200\.\d{6}$/);
    const methods = bot.slackApi.calls.map((c) => c.method);
    expect(methods).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
    expect(complete.body.files).toEqual([
      { id: expect.any(String), title: `${CHECKOUT} per minute by node: hold (\u221229.7%)` },
    ]);
    const upload = bot.slackApi.callsTo('upload')[0]!;
    expect(upload.body.bytes as number).toBeGreaterThan(10_000);
    expect(bot.slackApi.responses).toHaveLength(0);
  });

  it('posts a pass for a canary like the others', async () => {
    await bot.slack.command(`canary ${SEARCH} node=canary`);
    const post = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.postMessage')[0]);
    expect(String(post.body.text)).toBe(
      `Pass: node=canary is about the same as the other node values on ${SEARCH} over the last 1h (0%, 98% CI \u22120.9% to +1.0%).`,
    );
    expect(JSON.stringify(post.body.blocks)).toContain('p = 0.91: no worse than 10% lower.');
  });

  it.each([
    [`${CHECKOUT}{node="canary"}`, 'Write the metric and the label apart, without braces'],
    [`${CHECKOUT} node=canary over 1y`, '`1y` is not a duration'],
    [`${CHECKOUT} node`, '`node` is not a label and value'],
  ])('answers a bad spec (%s) privately with an example', async (spec, message) => {
    await bot.slack.command(`canary ${spec}`);
    const text = await reply();
    expect(text).toContain(message);
    expect(text).toContain('Example: `/donedone canary checkout_revenue_dollars_total node=canary over 1h`');
    expect(bot.slackApi.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it.each([
    [
      'no_such_metric_total node=canary',
      'Prometheus has no series called `no_such_metric_total` in the last 1h',
    ],
    [
      `${CHECKOUT} node=n9`,
      'No series of `checkout_revenue_dollars_total` has `node=\\"n9\\"` in the last 1h. The values seen are `canary`, `n1`, `n2`, `n3`.',
    ],
    [`${CHECKOUT} pod=web-1`, 'has no label `pod`'],
    [`${CHECKOUT} node=canary over 5m`, 'the canary has 6 points and the baseline 6 points over the window'],
  ])('answers %s privately, with no verdict', async (spec, message) => {
    await bot.slack.command(`canary ${spec}`);
    const text = await reply();
    expect(text).toContain(message);
    expect(text).not.toMatch(/\*(Hold|Pass)\*/);
    expect(bot.slackApi.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('attaches a canary to a feature, posts the judgement and chart in its thread, and judges it again by id', async () => {
    await bot.slack.command('propose Faster checkout');
    await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    const id = (await bot.donedone.store.list('T1')).at(-1)!.id;
    const cardTs = (await bot.donedone.store.get('T1', id))!.cardTs!;
    bot.slackApi.reset();

    await bot.slack.command(`canary ${id} ${CHECKOUT} node=canary`);
    const text = await reply();
    expect(text).toContain(
      `Attached the canary \`${CHECKOUT} node=canary over 1h\` to *${id}*. Judged: *hold*.`,
    );
    expect((await bot.donedone.store.get('T1', id))!.canary).toEqual({
      metric: CHECKOUT,
      label: 'node',
      value: 'canary',
    });
    const post = bot.slackApi.callsTo('chat.postMessage')[0]!;
    expect(post.body.thread_ts).toBe(cardTs);
    expect(JSON.stringify(post.body.blocks)).toContain(`Canary of *${id}* Faster checkout`);
    const complete = await bot.slackApi.waitFor(
      () => bot.slackApi.callsTo('files.completeUploadExternal')[0],
    );
    expect(complete.body.thread_ts).toBe(cardTs);

    bot.slackApi.reset();
    await bot.slack.command(`canary ${id}`);
    expect(await reply()).toContain(`Judged: *hold*. The judgement and its chart are in ${id}'s thread.`);
    expect(bot.slackApi.callsTo('chat.postMessage')[0]!.body.thread_ts).toBe(cardTs);
  });

  it('says when a feature has no canary or does not exist', async () => {
    await bot.slack.command('canary F-99');
    expect(await reply()).toContain('There is no feature F-99');
  });
});
