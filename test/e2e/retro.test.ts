import type { Feature } from '../../src/domain/model';
import { jobId } from '../../src/jobs/queue';
import { NOW } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { drainedBot, waitFor } from '../support/wait';

let bot: RunningBot;

beforeEach(async () => {
  bot = await startBot();
});

afterEach(async () => {
  await bot.stop();
});

async function feature(id: string): Promise<Feature> {
  return (await bot.donedone.store.get('T1', id))!;
}

async function propose(text: string): Promise<string> {
  const before = bot.slackApi.responses.length;
  await bot.slack.command(`propose ${text}`);
  await bot.slackApi.waitFor(() => bot.slackApi.responses.length > before);
  const features = await bot.donedone.store.list('T1');
  const id = features[features.length - 1]!.id;
  // Launched on past dates below: proposed before them (a launch before the proposal is refused).
  await bot.donedone.store.update('T1', id, (f) => ({ ...f, createdAt: '2026-09-01T00:00:00.000Z' }));
  return id;
}

/** Proposes, launches on 1 Oct (deadline 31 Oct, due at NOW) and waits for the retro to open. */
async function launchedToRetro(expectation: string): Promise<Feature> {
  const id = await propose(`Bulk export expect ${expectation}`);
  await bot.slack.command(`launch ${id} 2026-10-01`);
  await waitFor(async () => (await feature(id)).retro !== undefined);
  const f = await feature(id);
  // The reminder is planned right after the retro is stored.
  const reminder = jobId('retro-reminder', 'T1', id, 1, f.retro!.ts);
  await waitFor(async () => (await bot.donedone.queue.getJob(reminder)) !== undefined);
  return f;
}

async function command(text: string, user = 'U1'): Promise<string> {
  const before = bot.slackApi.responses.length;
  await bot.slack.command(text, user);
  const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
  return String(reply.body.text);
}

async function click(action: 'keep' | 'iterate' | 'remove', f: Feature, user: string, ts = f.retro!.ts) {
  const before = bot.slackApi.responses.length;
  const { res } = await bot.slack.interactive({
    type: 'block_actions',
    user: { id: user, username: user, team_id: 'T1' },
    team: { id: 'T1', domain: 'acme' },
    channel: { id: 'C1', name: 'planning' },
    container: { type: 'message', message_ts: ts, channel_id: 'C1' },
    message: { ts, type: 'message', text: 'retro' },
    trigger_id: `trigger-${user}-${action}`,
    api_app_id: 'A1',
    token: 'legacy',
    response_url: `${bot.slackApi.url}/response/click-${user}-${action}`,
    actions: [
      {
        action_id: `retro_${action}`,
        block_id: `retro:${f.id}:1`,
        value: f.id,
        type: 'button',
        action_ts: '1793491300.000001',
        text: { type: 'plain_text', text: action },
      },
    ],
  });
  expect(res.status).toBe(200);
  return before;
}

function retroPosts() {
  return bot.slackApi
    .callsTo('chat.postMessage')
    .filter((c) => String(c.body.text).startsWith('Retrospective ') && !c.body.thread_ts);
}

function threadPosts(ts: string) {
  return bot.slackApi.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === ts);
}

describe('opening a retro at the deadline', () => {
  it('posts expected vs actual in the channel and uploads the chart into its thread', async () => {
    const f = await launchedToRetro('bulk_export_total >= 200 per week within 30 days');
    expect(f.status).toBe('met');
    const post = await bot.slackApi.waitFor(() => retroPosts()[0]);
    expect(post.body.channel).toBe('C1');
    expect(String(post.body.text)).toBe(
      `Retrospective ${f.id} · Bulk export: met. Expected >= 200 per week, actual 336. Keep, iterate or remove?`,
    );
    const blocks = JSON.stringify(post.body.blocks);
    expect(blocks).toContain('2026-10-05 (4 days after launch)');
    expect(blocks).toMatch(/used in \d+ of the last 12 months/);
    expect(blocks).toContain('retro_keep');
    expect(f.retro).toMatchObject({ channel: 'C1', cycle: 1, launchedAt: '2026-10-01T00:00:00.000Z' });
    expect(f.retro?.actual).toEqual({ value: 336, verdict: 'met', at: '2026-10-31T00:00:00.000Z' });
    expect(f.retro?.monthsUsed?.count).toBeGreaterThanOrEqual(1);

    // The chart: getUploadURLExternal → the bytes to upload_url → completeUploadExternal into the thread.
    const complete = await bot.slackApi.waitFor(
      () => bot.slackApi.callsTo('files.completeUploadExternal')[0],
    );
    const url = bot.slackApi.callsTo('files.getUploadURLExternal')[0]!;
    const upload = bot.slackApi.calls.find((c) => c.method === 'upload')!;
    expect(url.body.filename).toBe(`${f.id}-retro-cycle-1.png`);
    expect(String(url.body.alt_text)).toMatch(
      /^Line chart of F-\d+ · bulk_export_total per week since launch/,
    );
    expect(String(url.body.alt_text)).toContain('target 200 bulk_export_total / week');
    expect(String(url.body.alt_text)).toContain('Launch marked on 1 Oct. Deadline marked on 31 Oct.');
    // A PNG of at least 800×400 with axes and labels is tens of kilobytes.
    expect(Number(url.body.length)).toBeGreaterThan(10_000);
    expect(Number(upload.body.bytes)).toBeGreaterThan(10_000);
    expect(complete.body.channel_id).toBe('C1');
    expect(complete.body.thread_ts).toBe(f.retro!.ts);
    expect(JSON.stringify(complete.body.files)).toContain(String(upload.body.path).replace('/upload/', ''));

    // Exactly once: no second retro message or chart, whatever retries happened.
    await drainedBot(bot.donedone);
    expect(retroPosts()).toHaveLength(1);
    expect(bot.slackApi.callsTo('files.completeUploadExternal')).toHaveLength(1);
  });

  it('is asked for early with /donedone retro, and points at the open one afterwards', async () => {
    const id = await propose('Bulk export expect bulk_export_total >= 200 per week within 30 days');
    expect(await command(`retro ${id}`)).toContain('has not launched');
    expect(await command(`launch ${id} 2026-10-20`)).toContain('Launched');
    expect(await command(`retro ${id}`)).toBe(
      `Opening ${id}'s retrospective in <#C1>: expected vs actual, a chart, and a decision.`,
    );
    await waitFor(async () => (await feature(id)).retro !== undefined);
    const f = await feature(id);
    // Before the deadline the actual is measured now: on track.
    expect(f.retro?.actual).toMatchObject({ value: 336, verdict: 'on track', at: NOW.toISO() });
    await bot.slackApi.waitFor(() => bot.slackApi.callsTo('files.completeUploadExternal')[0]);
    expect(await command(`retro ${id}`)).toBe(
      `${id}'s retro is already open: https://acme.slack.com/archives/C1/p${f.retro!.ts.replace('.', '')}`,
    );
    expect(retroPosts()).toHaveLength(1);
  });
});

describe('deciding', () => {
  it('records who decided and when, updates the message, and only the owner changes it', async () => {
    const f = await launchedToRetro('bulk_export_total >= 200 per week within 30 days');
    await bot.donedone.store.update('T1', f.id, (x) => ({
      ...x,
      flag: { key: 'bulk-export-v2', since: '2026-05-01' },
    }));
    bot.clock.now = NOW.plus({ days: 1, hours: 9 });
    await click('keep', f, 'U2');
    await waitFor(async () => (await feature(f.id)).status === 'decided');
    expect((await feature(f.id)).decision).toEqual({
      value: 'keep',
      by: 'U2',
      at: '2026-11-02T09:00:00.000Z',
    });
    const update = await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.update').find((c) => c.body.ts === f.retro!.ts),
    );
    expect(String(update.body.text)).toContain('Decision: keep by <@U2>.');
    expect(JSON.stringify(update.body.blocks)).toContain('*Decision: keep* by <@U2> on 2026-11-02 09:00 UTC');
    // A linked flag: asked to go, once, in the retro thread.
    const ask = await bot.slackApi.waitFor(() =>
      threadPosts(f.retro!.ts).find((c) => String(c.body.text).includes('bulk-export-v2')),
    );
    expect(String(ask.body.text)).toContain('Remove the flag');

    // Someone else cannot change it: answered only to them.
    const before = await click('remove', f, 'U3');
    const refusal = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
    expect(refusal.body.text).toContain('Only <@U1> or an admin can change F-1.');
    expect((await feature(f.id)).decision?.value).toBe('keep');

    // The owner can.
    await click('remove', f, 'U1');
    await waitFor(async () => (await feature(f.id)).decision?.value === 'remove');
    const changed = await bot.slackApi.waitFor(() =>
      bot.slackApi
        .callsTo('chat.update')
        .find((c) => c.body.ts === f.retro!.ts && String(c.body.text).includes('remove')),
    );
    expect(JSON.stringify(changed.body.blocks)).toContain('*Decision: remove* (changed from keep) by <@U1>');
    expect((await feature(f.id)).status).toBe('decided');
    const show = await command(`show ${f.id}`);
    expect(show).toContain(f.id);
    const shown = JSON.stringify(bot.slackApi.responses[bot.slackApi.responses.length - 1]!.body.blocks);
    expect(shown).toContain('*Decision* remove by <@U1>');
    expect(
      threadPosts(f.retro!.ts).filter((c) => String(c.body.text).includes('bulk-export-v2')),
    ).toHaveLength(1);
  });

  it('iterate keeps the old cycle in history and opens the expectation form for the next', async () => {
    const f = await launchedToRetro('dark_mode_toggles_total >= 200 per week within 30 days');
    expect(f.retro?.actual).toMatchObject({ value: 56, verdict: 'missed' });
    await click('iterate', f, 'U1');
    const modal = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open')[0]);
    expect(JSON.stringify(modal.body.view)).toContain('answer_modal');
    expect(JSON.stringify(modal.body.view)).toContain(f.id);
    await waitFor(async () => (await feature(f.id)).status === 'measurable');
    const after = await feature(f.id);
    expect(after.launchedAt).toBeUndefined();
    expect(after.firstUseAt).toBeUndefined();
    expect(after.retro).toBeUndefined();
    expect(after.decision).toBeUndefined();
    expect(after.expectation?.text).toBe(f.expectation?.text);
    expect(after.history).toEqual([
      {
        expectation: f.expectation,
        launchedAt: '2026-10-01T00:00:00.000Z',
        firstUseAt: f.firstUseAt,
        verdict: 'missed',
        decision: { value: 'iterate', by: 'U1', at: NOW.toISO() },
        retro: f.retro,
      },
    ]);
    const update = await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.update').find((c) => c.body.ts === f.retro!.ts),
    );
    expect(JSON.stringify(update.body.blocks)).toContain('*Decision: iterate* by <@U1>');
    expect(JSON.stringify(update.body.blocks)).not.toContain('retro_keep');
    // The old retro's decision stands.
    const before = await click('keep', f, 'U1');
    const refusal = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
    expect(refusal.body.text).toContain('earlier cycle');
  });
});

describe('notes', () => {
  it('keeps replies in the retro thread as notes, once, and show lists them', async () => {
    const f = await launchedToRetro('bulk_export_total >= 200 per week within 30 days');
    const reply = {
      type: 'message',
      channel: 'C1',
      user: 'U2',
      text: 'Finance uses it every Monday',
      ts: '1793577600.000100',
      thread_ts: f.retro!.ts,
    };
    await bot.slack.event(reply, 'Ev1');
    await bot.slack.event(reply, 'Ev1', 1);
    await bot.slack.event(
      { ...reply, user: undefined, bot_id: 'BBOT', text: 'bot says', ts: '1793577600.000200' },
      'Ev2',
    );
    await bot.slack.event(
      { ...reply, thread_ts: '1.000001', text: 'elsewhere', ts: '1793577600.000300' },
      'Ev3',
    );
    await waitFor(async () => (await bot.donedone.checks.notes('T1', f.id)).length > 0);
    await drainedBot(bot.donedone);
    expect(await bot.donedone.checks.notes('T1', f.id)).toEqual([
      { user: 'U2', text: 'Finance uses it every Monday', at: '2026-11-02T00:00:00.000Z', ts: reply.ts },
    ]);
    await command(`show ${f.id}`);
    const shown = JSON.stringify(bot.slackApi.responses[bot.slackApi.responses.length - 1]!.body.blocks);
    expect(shown).toContain('*Notes*');
    expect(shown).toContain('<@U2> 2026-11-02: Finance uses it every Monday');
  });
});

describe('the reminder', () => {
  async function reminderJob(f: Feature) {
    const id = jobId('retro-reminder', 'T1', f.id, 1, f.retro!.ts);
    const job = await bot.donedone.queue.getJob(id);
    expect(job).toBeDefined();
    return job!;
  }

  async function finished(f: Feature): Promise<unknown> {
    let value: unknown;
    await waitFor(async () => {
      if ((await (await reminderJob(f)).getState()) !== 'completed') return false;
      value = (await reminderJob(f)).returnvalue;
      return true;
    });
    return value;
  }

  it('a week without a decision: one reminder in the thread and one DM to the owner', async () => {
    const f = await launchedToRetro('bulk_export_total >= 200 per week within 30 days');
    const job = await reminderJob(f);
    // Planned a week after the retro opened.
    expect(job.opts.delay).toBe(7 * 24 * 3600 * 1000);
    // Run early (the clock has not moved): it waits again instead of reminding.
    await job.promote();
    await waitFor(async () => (await (await reminderJob(f)).getState()) === 'delayed');
    expect(
      threadPosts(f.retro!.ts).filter((c) => String(c.body.text).includes('waited a week')),
    ).toHaveLength(0);

    bot.clock.now = NOW.plus({ days: 8 });
    await (await reminderJob(f)).promote();
    expect(await finished(f)).toBe('reminded');
    const inThread = threadPosts(f.retro!.ts).filter((c) => String(c.body.text).includes('waited a week'));
    expect(inThread).toHaveLength(1);
    const dms = bot.slackApi
      .callsTo('chat.postMessage')
      .filter((c) => c.body.channel === 'U1' && String(c.body.text).includes('still needs a decision'));
    expect(dms).toHaveLength(1);
    expect(String(dms[0]!.body.text)).toContain(
      `<https://acme.slack.com/archives/C1/p${f.retro!.ts.replace('.', '')}|its retro thread>`,
    );
  });

  it('says nothing once a decision exists', async () => {
    const f = await launchedToRetro('bulk_export_total >= 200 per week within 30 days');
    await click('keep', f, 'U1');
    await waitFor(async () => (await feature(f.id)).status === 'decided');
    bot.clock.now = NOW.plus({ days: 8 });
    await (await reminderJob(f)).promote();
    expect(await finished(f)).toBe('skipped: decided');
    expect(
      threadPosts(f.retro!.ts).filter((c) => String(c.body.text).includes('waited a week')),
    ).toHaveLength(0);
    expect(bot.slackApi.callsTo('chat.postMessage').filter((c) => c.body.channel === 'U1')).toHaveLength(0);
  });
});
