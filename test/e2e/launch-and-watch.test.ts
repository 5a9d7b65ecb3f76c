import { BULK_EXPORT_FIRST_USE_HOUR } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { drainedBot, waitFor } from '../support/wait';

const API_TOKEN = 'test-api-token-0123456789abcdef';
let bot: RunningBot;

afterEach(async () => {
  await bot.stop();
});

async function propose(text: string): Promise<string> {
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(`propose ${text}`);
  expect(body).toBe('');
  await bot.slackApi.waitFor(() => bot.slackApi.responses.length > before);
  const features = await bot.donedone.store.list('T1');
  const id = features[features.length - 1]!.id;
  // Launched on past dates below: proposed before them (a launch before the proposal is refused).
  await bot.donedone.store.update('T1', id, (f) => ({ ...f, createdAt: '2026-09-01T00:00:00.000Z' }));
  return id;
}

function threadPosts(cardTs: string) {
  return bot.slackApi.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === cardTs);
}

async function cardTs(id: string): Promise<string> {
  return (await bot.donedone.store.get('T1', id))!.cardTs!;
}

describe('a launch in the past', () => {
  beforeEach(async () => {
    bot = await startBot({ env: { DONEDONE_API_TOKEN: API_TOKEN } });
  });

  it('finds the real first-use day, runs due checks in order, posts only the latest intermediate and the final verdict', async () => {
    const id = await propose(
      'Bulk export expect bulk_export_total{app="web"} >= 200 per week within 30 days',
    );
    await bot.slack.command(`launch ${id} 2026-10-01`);
    await waitForStatus(id, 'met');
    const feature = (await bot.donedone.store.get('T1', id))!;
    // The counter first moves in the hour ending at 11:00; first use is that hour's start.
    expect(feature.firstUseAt).toBe(BULK_EXPORT_FIRST_USE_HOUR.toISO());
    expect(feature.launchedAt).toBe('2026-10-01T00:00:00.000Z');
    const checks = await bot.donedone.checks.list('T1', id);
    const scheduled = checks.filter((c) => c.kind !== 'manual');
    expect(scheduled.map((c) => `${c.at.slice(0, 10)} ${c.kind}`)).toEqual([
      '2026-10-08 scheduled',
      '2026-10-15 scheduled',
      '2026-10-22 scheduled',
      '2026-10-29 scheduled',
      '2026-10-31 final',
    ]);
    expect(scheduled[4]).toMatchObject({ value: 336, verdict: 'met' });
    const ts = await cardTs(id);
    await bot.slackApi.waitFor(() => threadPosts(ts).length >= 4);
    await drainedBot(bot.donedone);
    const posts = threadPosts(ts).map((c) => String(c.body.text));
    // The launch note, done-done, the latest intermediate check (29 Oct) and the final verdict: no flood.
    expect(posts).toHaveLength(4);
    expect(posts.some((t) => t.includes('done-done: first customer use on 2026-10-05'))).toBe(true);
    expect(
      posts.filter((t) => t.startsWith(`${id}: on track`) || t.startsWith(`${id}: at risk`)),
    ).toHaveLength(1);
    expect(posts.some((t) => t.startsWith(`${id}: met.`))).toBe(true);
    // No DM for a met expectation.
    expect(bot.slackApi.callsTo('chat.postMessage').filter((c) => c.body.channel === 'U1')).toEqual([]);
  });

  it('tells the owner by DM when the deadline is missed', async () => {
    const id = await propose('Dark mode expect dark_mode_toggles_total >= 200 per week within 30 days');
    await bot.slack.command(`launch ${id} 2026-10-01`);
    await waitForStatus(id, 'missed');
    const dm = await bot.slackApi.waitFor(() =>
      bot.slackApi
        .callsTo('chat.postMessage')
        .find((c) => c.body.channel === 'U1' && String(c.body.text).includes('missed')),
    );
    expect(JSON.stringify(dm.body.blocks)).toContain('56 against >= 200 per week');
    const final = (await bot.donedone.checks.list('T1', id)).find((c) => c.kind === 'final');
    expect(final).toMatchObject({ value: 56, verdict: 'missed' });
  });

  it('launching again with the same date changes nothing; another date reschedules', async () => {
    const id = await propose('Bulk export expect bulk_export_total >= 200 per week within 30 days');
    await bot.slack.command(`launch ${id} 2026-10-01`);
    await waitForStatus(id, 'met');
    const ts = await cardTs(id);
    await bot.slackApi.waitFor(() => threadPosts(ts).length >= 4);
    const postsBefore = threadPosts(ts).length;
    const before = bot.slackApi.responses.length;
    await bot.slack.command(`launch ${id} 2026-10-01`);
    const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
    expect(reply.body.text).toContain('already launched on 2026-10-01; nothing changed');
    await drainedBot(bot.donedone);
    expect(threadPosts(ts)).toHaveLength(postsBefore);

    await bot.slack.command(`launch ${id} 2026-10-20`);
    await waitFor(
      async () => (await bot.donedone.store.get('T1', id))?.launchedAt === '2026-10-20T00:00:00.000Z',
    );
    await waitFor(async () =>
      (await bot.donedone.checks.list('T1', id)).some((c) => c.at.startsWith('2026-10-27')),
    );
    const checks = (await bot.donedone.checks.list('T1', id)).map((c) => `${c.at.slice(0, 10)} ${c.kind}`);
    // Only the new launch's checks: 27 Oct is due, the rest are scheduled for later.
    expect(checks).toEqual(['2026-10-27 scheduled']);
  });

  it('two features launched in one channel: each gets its done-done post once (the channel paces them)', async () => {
    const first = await propose(
      'Bulk export expect bulk_export_total{app="web"} >= 200 per week within 30 days',
    );
    const second = await propose(
      'Bulk export API expect bulk_export_total{app="web"} >= 100 per week within 30 days',
    );
    await bot.slack.command(`launch ${first} 2026-10-01`);
    await bot.slack.command(`launch ${second} 2026-10-01`);
    await waitForStatus(first, 'met');
    await waitForStatus(second, 'met');
    await drainedBot(bot.donedone);
    for (const id of [first, second]) {
      const posts = threadPosts(await cardTs(id)).map((c) => String(c.body.text));
      expect(posts.filter((t) => t.includes('done-done: first customer use on 2026-10-05'))).toHaveLength(1);
    }
  });

  it('a launched feature nobody uses stays waiting for first use, and show says so', async () => {
    const id = await propose('Legacy report expect legacy_report_total >= 1 per week within 60 days');
    await bot.slack.command(`launch ${id} 2026-10-01`);
    // Nobody used it: donedone keeps looking every hour.
    await waitFor(async () =>
      (await bot.donedone.queue.getJobSchedulers()).some((s) => s.key === `first-use__T1__${id}`),
    );
    // 8, 15, 22 and 29 October are due at 1 November; the rest are scheduled. The catch-up job
    // plans the hourly search before it runs the due checks, so wait for those too.
    await waitFor(async () => (await bot.donedone.checks.list('T1', id)).length >= 4);
    expect(await bot.donedone.checks.list('T1', id)).toHaveLength(4);
    const feature = (await bot.donedone.store.get('T1', id))!;
    expect(feature.firstUseAt).toBeUndefined();
    expect(feature.status).toBe('launched');
    const before = bot.slackApi.responses.length;
    await bot.slack.command(`show ${id}`);
    const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
    // Launched 1 Oct, asked on 1 Nov (the test clock): 31 days.
    expect(JSON.stringify(reply.body.blocks)).toContain('not used yet · launched 31 days ago');
  });
});

describe('bad launches', () => {
  beforeEach(async () => {
    bot = await startBot();
  });

  it('refuses an impossible date in the acknowledgement', async () => {
    await propose('Bulk export');
    const { body } = await bot.slack.command('launch F-1 2026-13-45');
    expect(JSON.parse(body).text).toContain('`2026-13-45` is not a date');
  });

  it('refuses a future date and an unknown id, changing nothing', async () => {
    await propose('Bulk export');
    await bot.slack.command('launch F-1 2026-12-24');
    const future = await bot.slackApi.waitFor(() => bot.slackApi.responses[1]);
    expect(future.body.text).toContain('is in the future');
    await bot.slack.command('launch F-9');
    const unknown = await bot.slackApi.waitFor(() => bot.slackApi.responses[2]);
    expect(unknown.body.text).toContain('There is no feature F-9');
    expect((await bot.donedone.store.get('T1', 'F-1'))!.launchedAt).toBeUndefined();
  });
});

describe('telemetry down', () => {
  it('an outage at the deadline makes the verdict pending, never missed, and keeps trying', async () => {
    bot = await startBot({
      env: { PROMETHEUS_URL: 'http://127.0.0.1:9' },
      queue: { attempts: 2, backoffMs: 50 },
    });
    const id = await propose('Dark mode expect dark_mode_toggles_total >= 200 per week within 7 days');
    expect((await bot.donedone.store.get('T1', id))!.instrumented).toBe('unknown');
    await bot.slack.command(`launch ${id} 2026-10-01`);
    const ts = await cardTs(id);
    const post = await bot.slackApi.waitFor(
      () => threadPosts(ts).find((c) => String(c.body.text).startsWith(`${id}: verdict pending`)),
      30_000,
    );
    // The launch was recorded late (deadline 8 Oct, now 1 Nov): seven days of tries from now.
    expect(JSON.stringify(post.body.blocks)).toContain('This is not a miss: I keep trying until 2026-11-08');
    expect(JSON.stringify(post.body.blocks)).not.toContain('127.0.0.1:9');
    const feature = (await bot.donedone.store.get('T1', id))!;
    expect(feature.status).toBe('launched');
    expect(feature.verdictPending?.until).toBe('2026-11-08T00:00:00.000Z');
    expect((await bot.donedone.checks.list('T1', id)).filter((c) => c.kind === 'final')).toEqual([]);
    // A delayed job tries again; no worker waits.
    await waitFor(async () =>
      (await bot.donedone.queue.getDelayed()).some((j) => String(j.id).includes('__retry')),
    );
    expect(bot.slackApi.callsTo('chat.postMessage').filter((c) => c.body.channel === 'U1')).toEqual([]);
  });
});

describe('HTTP API', () => {
  beforeEach(async () => {
    bot = await startBot({ env: { DONEDONE_API_TOKEN: API_TOKEN } });
  });

  const api = (path: string, init: RequestInit = {}, token: string | null = API_TOKEN) =>
    fetch(`${bot.url}${path}`, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    });

  it('answers 401 without the bearer token, or with a wrong one', async () => {
    await propose('Bulk export');
    expect((await api('/api/features', {}, null)).status).toBe(401);
    expect((await api('/api/features', {}, 'wrong-token-0123456789abcdef')).status).toBe(401);
    expect((await api('/api/features/F-1/launch', { method: 'POST', body: '{}' }, null)).status).toBe(401);
    expect((await bot.donedone.store.get('T1', 'F-1'))!.launchedAt).toBeUndefined();
  });

  it('launches from a deploy pipeline and answers the gate in Argo Rollouts’ shape', async () => {
    const id = await propose('Bulk export expect bulk_export_total >= 200 per week within 30 days');
    const launch = await api(`/api/features/${id}/launch`, {
      method: 'POST',
      body: JSON.stringify({ at: '2026-10-01' }),
    });
    expect(launch.status).toBe(200);
    expect(await launch.json()).toEqual({
      data: { id, launchedAt: '2026-10-01T00:00:00.000Z', changed: true },
    });
    await waitForStatus(id, 'met');
    const gate = await api(`/api/features/${id}/gate`);
    expect(gate.status).toBe(200);
    expect(await gate.json()).toEqual({
      data: { ok: true, inconclusive: false, verdict: 'met', actual: 336, expected: 200 },
    });
    const one = (await (await api(`/api/features/${id}`)).json()) as {
      data: { firstUseAt: string; checks: unknown[] };
    };
    expect(one.data.firstUseAt).toBe(BULK_EXPORT_FIRST_USE_HOUR.toISO());
    expect(one.data.checks).toHaveLength(5);
    const all = (await (await api('/api/features')).json()) as { data: { id: string; status: string }[] };
    expect(all.data).toEqual([expect.objectContaining({ id, status: 'met' })]);
  });

  it('answers a bad launch date with 400 and an unknown feature with 404', async () => {
    await propose('Bulk export');
    const bad = await api('/api/features/F-1/launch', {
      method: 'POST',
      body: JSON.stringify({ at: '2026-13-45' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('is not a date');
    expect((await api('/api/features/F-9/gate')).status).toBe(404);
    expect((await api('/api/features/F-1/launch', { method: 'POST', body: 'not json' })).status).toBe(400);
  });

  it('serves donedone metrics in the Prometheus text format', async () => {
    await propose('Bulk export');
    await bot.slack.command('frobnicate');
    const res = await fetch(`${bot.url}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('donedone_commands_total{command="propose",outcome="ok"} 1');
    expect(text).toContain('donedone_commands_total{command="invalid",outcome="refused"} 1');
    expect(text).toMatch(/donedone_jobs\{state="waiting"\} \d+/);
    expect(text).toContain('donedone_command_duration_seconds_bucket');
  });
});

describe('Slack rate limits', () => {
  it('honours Retry-After on a job’s post and posts it once', async () => {
    bot = await startBot();
    const id = await propose('Dark mode expect dark_mode_toggles_total >= 200 per week within 7 days');
    const ts = await cardTs(id);
    // The launch note goes through; the final check's post is rate-limited once, then delivered.
    await bot.slack.command(`launch ${id} 2026-10-01`);
    await bot.slackApi.waitFor(() => threadPosts(ts).length >= 1);
    bot.slackApi.fail('chat.postMessage', { status: 429, retryAfter: 1, times: 1 });
    await bot.slackApi.waitFor(
      () => threadPosts(ts).find((c) => String(c.body.text).startsWith(`${id}: missed`)),
      15_000,
    );
    await drainedBot(bot.donedone);
    expect(threadPosts(ts).filter((c) => String(c.body.text).startsWith(`${id}: missed`))).toHaveLength(1);
  });
});

async function waitForStatus(id: string, status: string): Promise<void> {
  await waitFor(async () => (await bot.donedone.store.get('T1', id))?.status === status);
}
