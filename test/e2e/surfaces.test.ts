/**
 * The paths a person reaches without typing a command: planning messages, the message shortcut
 * and both modal submissions; and the paths of a launched feature that had no test: `expect` on
 * a launched feature, the data-stopped DM, the gate's 503 and inconclusive answers, dropping a
 * launched feature.
 */
import { DateTime } from 'luxon';
import { NOW } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { proposedOn } from '../support/proposed-on';
import { drainedBot, waitFor } from '../support/wait';

const API_TOKEN = 'test-api-token-0123456789abcdef';
let bot: RunningBot;
afterEach(async () => {
  await bot?.stop();
});

// Both queues: a card is posted by the request's job, after its feature is stored.
const drained = () => drainedBot(bot.donedone);

async function ask(text: string, user = 'U1'): Promise<string> {
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(text, user);
  if (body) return String(JSON.parse(body).text);
  const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
  return String(reply.body.text);
}

const features = () => bot.donedone.store.list('T1');
const feature = async (id: string) => (await bot.donedone.store.get('T1', id))!;

/** A view_submission as Slack sends it: the modal's state values by block and action id. */
function submission(callbackId: string, metadata: object, fields: Record<string, string>) {
  const values: Record<string, Record<string, unknown>> = {};
  for (const [block, value] of Object.entries(fields)) {
    values[block] =
      block === 'op' || block === 'window'
        ? { value: { type: 'static_select', selected_option: { value } } }
        : block === 'owner'
          ? { value: { type: 'users_select', selected_user: value } }
          : { value: { type: 'plain_text_input', value } };
  }
  return {
    type: 'view_submission',
    team: bot.slack.team(),
    user: bot.slack.user(),
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: 'trigger-view',
    view: {
      id: 'V1',
      type: 'modal',
      callback_id: callbackId,
      private_metadata: JSON.stringify(metadata),
      state: { values },
      hash: 'h',
    },
  };
}

describe('proposals without a command', () => {
  beforeEach(async () => {
    bot = await startBot();
  });

  it('a "Proposal:" message gets a card in its thread, once, even when Slack retries the event', async () => {
    const event = {
      type: 'message',
      channel: 'C1',
      user: 'U2',
      text: 'Proposal: Bulk export for admins',
      ts: '1700000000.000100',
    };
    expect((await bot.slack.event(event, 'Ev1')).status).toBe(200);
    expect((await bot.slack.event(event, 'Ev1', 1)).status).toBe(200);
    await waitFor(async () => (await features()).length === 1);
    await drained();
    const [f] = await features();
    expect(f).toMatchObject({ title: 'Bulk export for admins', ownerId: 'U2', status: 'proposed' });
    const cards = bot.slackApi.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === event.ts);
    expect(cards).toHaveLength(1);
    expect(String(cards[0]!.body.text)).toContain('How will we know it works in production?');
  });

  it('a planning message whose card cannot be posted is retried as a job, then its author is told', async () => {
    // Slack refuses the card once: the retry posts the card of the same feature, F-1.
    bot.slackApi.fail('chat.postMessage', { error: 'internal_error', status: 500, times: 1 });
    const once = {
      type: 'message',
      channel: 'C1',
      user: 'U2',
      text: 'Proposal: Retried card',
      ts: '1700000001.000100',
    };
    await bot.slack.event(once, 'EvA');
    await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.postMessage').find((c) => c.body.thread_ts === once.ts && c.body.blocks),
    );
    await drained();
    expect((await features()).map((f) => [f.id, f.title, Boolean(f.cardTs)])).toEqual([
      ['F-1', 'Retried card', true],
    ]);
    // Refused for good (the bot is not in the channel): no retry can fix it, the author gets a DM at once.
    bot.slackApi.fail('chat.postMessage', { error: 'not_in_channel', times: 1 });
    const never = {
      type: 'message',
      channel: 'C9',
      user: 'U2',
      text: 'Proposal: Never posted',
      ts: '1700000002.000100',
    };
    await bot.slack.event(never, 'EvB');
    const dm = await bot.slackApi.waitFor(
      () => bot.slackApi.callsTo('chat.postMessage').find((c) => c.body.channel === 'U2'),
      20_000,
    );
    expect(String(dm.body.text)).toContain(
      'I could not post the card for your proposal “Never posted” in <#C9> (not_in_channel)',
    );
  });

  it('the Track as feature shortcut opens the proposal form with the message as its title', async () => {
    const { res } = await bot.slack.interactive({
      type: 'message_action',
      callback_id: 'track_as_feature',
      team: bot.slack.team(),
      user: bot.slack.user(),
      channel: { id: 'C1', name: 'planning' },
      message: {
        type: 'message',
        text: 'Dark mode for reports\nmore words',
        ts: '1700000000.000200',
        user: 'U3',
      },
      trigger_id: 'trigger-shortcut',
      response_url: 'https://hooks.invalid/r',
      token: 'legacy',
    });
    expect(res.status).toBe(200);
    const open = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open')[0]);
    const view = open.body.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toBe('propose_modal');
    expect(JSON.parse(view.private_metadata)).toEqual({ channel: 'C1', threadTs: '1700000000.000200' });
    expect(JSON.stringify(view.blocks)).toContain('Dark mode for reports');
  });

  it('the proposal form: a bad target is refused in place, a good one proposes with its expectation', async () => {
    const meta = { channel: 'C1', threadTs: '1700000000.000300' };
    const bad = await bot.slack.interactive(
      submission('propose_modal', meta, {
        title: 'Bulk export',
        metric: 'bulk_export_total',
        target: 'lots',
      }),
    );
    expect(JSON.parse(bad.body)).toEqual({
      response_action: 'errors',
      errors: { target: '"lots" is not a number: write 200, 1.5k, 2m or 12.5%.' },
    });
    expect(await features()).toEqual([]);
    const good = await bot.slack.interactive(
      submission('propose_modal', meta, {
        title: 'Bulk export',
        metric: 'bulk_export_total',
        op: '>=',
        target: '200',
        window: 'week',
        deadline: '30',
      }),
    );
    expect(good.body).toBe('');
    await waitFor(async () => (await features()).length === 1);
    const [f] = await features();
    expect(f!.expectation!.text).toBe('bulk_export_total >= 200 per week within 30 days');
    expect(f!.status).toBe('measurable');
    await waitFor(async () => (await features())[0]!.instrumented === 'yes');
  });

  it('the expectation form records the answer on an existing feature; a window longer than the deadline is refused', async () => {
    await ask('propose Dark mode');
    const meta = { channel: 'C1', featureId: 'F-1' };
    const tooLong = await bot.slack.interactive(
      submission('answer_modal', meta, {
        metric: 'dark_mode_toggles_total',
        target: '10',
        window: 'month',
        deadline: '7',
      }),
    );
    expect(JSON.parse(tooLong.body).response_action).toBe('errors');
    expect(JSON.stringify(JSON.parse(tooLong.body).errors.deadline)).toContain(
      'cannot fit before a deadline',
    );
    const ok = await bot.slack.interactive(
      submission('answer_modal', meta, {
        metric: 'dark_mode_toggles_total',
        target: '10',
        window: 'week',
        deadline: '14',
      }),
    );
    expect(ok.body).toBe('');
    await waitFor(async () => (await feature('F-1')).expectation !== undefined);
    expect((await feature('F-1')).expectation!.text).toBe(
      'dark_mode_toggles_total >= 10 per week within 14 days',
    );
  });
});

describe('a launched feature', () => {
  beforeEach(async () => {
    bot = await startBot({ env: { DONEDONE_API_TOKEN: API_TOKEN } });
  });

  const gate = (id: string) =>
    fetch(`${bot.url}/api/features/${id}/gate`, { headers: { authorization: `Bearer ${API_TOKEN}` } });

  it('a new expectation starts a fresh history: old checks do not steer its projection', async () => {
    // Launched 12 Oct; steady 168 a week from 14 Oct. Checks of `>= 500` on 19 and 26 Oct.
    await ask('propose Steady export expect steady_export_total >= 500 per week within 30 days');
    await proposedOn(bot);
    await ask('launch F-1 2026-10-12');
    await waitFor(async () => (await bot.donedone.checks.list('T1', 'F-1')).length >= 2);
    await drained();
    // A new expectation replaces the old checks of the launch and plans its own.
    expect(await ask('expect F-1 steady_export_total >= 100 per week within 30 days')).toContain(
      'Recorded for *F-1*',
    );
    await waitFor(async () =>
      (await bot.donedone.checks.list('T1', 'F-1')).some((c) => c.expectation?.includes('>= 100')),
    );
    await drained();
    const checks = await bot.donedone.checks.list('T1', 'F-1');
    expect(checks.every((c) => c.expectation === 'steady_export_total >= 100 per week within 30 days')).toBe(
      true,
    );
    expect(checks.map((c) => c.verdict)).toEqual(['on track', 'on track']);
  });

  it('tells the owner by DM when a metric that had data stops returning any', async () => {
    // reports_viewed_total has daily samples until 1 Nov (NOW); a window past that has none.
    await ask('propose Reports expect reports_viewed_total >= 1 per day within 60 days');
    await proposedOn(bot);
    await ask('launch F-1 2026-10-01');
    await waitFor(async () => (await bot.donedone.checks.list('T1', 'F-1')).length >= 4);
    await drained();
    bot.clock.now = NOW.plus({ days: 3 });
    // The next weekly check, 5 Nov, is past the history's end (1 Nov): no data after data.
    await bot.donedone.queue.add('check', {
      team: 'T1',
      id: 'F-1',
      launchedAt: '2026-10-01T00:00:00.000Z',
      expectation: 'reports_viewed_total >= 1 per day within 60 days',
      at: '2026-11-05T00:00:00.000Z',
      kind: 'scheduled',
    });
    const dm = await bot.slackApi.waitFor(() =>
      bot.slackApi
        .callsTo('chat.postMessage')
        .find((c) => c.body.channel === 'U1' && String(c.body.text).includes('stopped returning data')),
    );
    expect(String(dm.body.text)).toBe('F-1: reports_viewed_total stopped returning data');
  });

  it('the gate: inconclusive right after a launch, 503 when the telemetry is down', async () => {
    await ask('propose Fresh expect fresh_feature_total >= 200 per week within 30 days');
    await proposedOn(bot);
    // Launched an hour ago: no data, no first use yet, within the 24 h grace.
    bot.clock.now = DateTime.fromISO('2026-10-20T10:00:00Z', { zone: 'utc' });
    await ask('launch F-1');
    let res = await gate('F-1');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown }).data).toMatchObject({ ok: false, inconclusive: true });
    // Three days after first use (29 Oct), 72 against 200: too early, still inconclusive.
    bot.clock.now = NOW;
    res = await gate('F-1');
    expect(((await res.json()) as { data: unknown }).data).toEqual({
      ok: false,
      inconclusive: true,
      verdict: 'too early',
      actual: 72,
      expected: 200,
    });
    await bot.stop();
    bot = await startBot({ env: { DONEDONE_API_TOKEN: API_TOKEN, PROMETHEUS_URL: 'http://127.0.0.1:9' } });
    await ask('propose Bulk export expect bulk_export_total >= 200 per week');
    res = await gate('F-1');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { data: { verdict: string } }).data.verdict).toBe('unknown');
  });

  it('dropping a launched feature stops its jobs: no first use is announced afterwards', async () => {
    // Launched 24 Oct; first use on 29 Oct would be found by the hourly watch.
    bot.clock.now = DateTime.fromISO('2026-10-25T00:00:00Z', { zone: 'utc' });
    await ask('propose Fresh expect fresh_feature_total >= 200 per week within 30 days');
    await proposedOn(bot);
    await ask('launch F-1 2026-10-24');
    await waitFor(async () =>
      (await bot.donedone.queue.getJobSchedulers()).some((s) => s.key === 'first-use__T1__F-1'),
    );
    await drained();
    expect(await ask('drop F-1 not needed')).toContain('Dropped *F-1*');
    expect((await bot.donedone.queue.getJobSchedulers()).map((s) => s.key)).not.toContain(
      'first-use__T1__F-1',
    );
    expect((await bot.donedone.queue.getDelayed()).filter((j) => j.name === 'check')).toEqual([]);
    // Even a first-use job already under way finds the feature dropped.
    bot.clock.now = NOW;
    expect(
      await bot.donedone.watch.firstUseJob({
        team: 'T1',
        id: 'F-1',
        launchedAt: '2026-10-24T00:00:00.000Z',
        expectation: 'fresh_feature_total >= 200 per week within 30 days',
      }),
    ).toBe('stopped');
    await drained();
    expect((await feature('F-1')).firstUseAt).toBeUndefined();
    const posts = bot.slackApi.callsTo('chat.postMessage').map((c) => String(c.body.text));
    expect(posts.some((t) => t.includes('done-done'))).toBe(false);
  });
});

describe('dates in the workspace zone', () => {
  it('a digest is dated in DONEDONE_TIMEZONE, and in its own zone in a channel with a schedule', async () => {
    // NOW is 1 Nov 00:00 UTC: Saturday 31 October in Los Angeles, Sunday 1 November in Auckland.
    bot = await startBot({ env: { DONEDONE_TIMEZONE: 'America/Los_Angeles' } });
    await ask('propose Bulk export');
    const digestIn = (channel: string) =>
      bot.slackApi.waitFor(() =>
        bot.slackApi
          .callsTo('chat.postMessage')
          .find(
            (c) => c.body.channel === channel && JSON.stringify(c.body.blocks).includes('donedone digest'),
          ),
      );
    await ask('digest');
    expect(JSON.stringify((await digestIn('C1')).body.blocks)).toContain('donedone digest · Sat 31 Oct 2026');
    await bot.slack.command('digest every monday 09:00 Pacific/Auckland', 'U1', 'C2');
    await waitFor(async () => (await bot.donedone.schedules.get('T1', 'C2')) !== null);
    await bot.slack.command('digest', 'U1', 'C2');
    expect(JSON.stringify((await digestIn('C2')).body.blocks)).toContain('donedone digest · Sun 1 Nov 2026');
  });
});
