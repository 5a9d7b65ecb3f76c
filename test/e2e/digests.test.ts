import { defaultRepeatStrategy, type Job } from 'bullmq';
import { DateTime } from 'luxon';
import { parseDigestSchedule } from '../../src/domain/digest-schedule';
import type { Feature } from '../../src/domain/model';
import type { JobData } from '../../src/jobs/queue';
import { digestSchedulerId } from '../../src/usecases/digest-service';
import { GUARD_SCHEDULER_ID } from '../../src/usecases/guard-service';
import { generateFeatures, measure } from '../fixtures/board';
import { NOW } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { drained } from '../support/wait';

/** Digest schedulers in the queue (guardrails keep their own one, `guard-rounds`). */
async function digestSchedulers(): Promise<number> {
  return (await bot.donedone.queue.getJobSchedulers()).filter((s) => s.key !== GUARD_SCHEDULER_ID).length;
}

let bot: RunningBot;
let started = false;

afterEach(async () => {
  // The daylight-saving test needs no bot.
  if (started) await bot.stop();
  started = false;
});

async function start(opts: Parameters<typeof startBot>[0] = {}): Promise<RunningBot> {
  bot = await startBot(opts);
  started = true;
  return bot;
}

/** Sends a command and returns the ephemeral answer it got (through the response URL). */
async function ask(text: string, user = 'U1', channel = 'C1'): Promise<{ text: string; blocks: unknown[] }> {
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(text, user, channel);
  if (body) return { text: body, blocks: [] };
  await bot.slackApi.waitFor(() => bot.slackApi.responses.length > before, 15_000);
  const answer = bot.slackApi.responses[before]!.body;
  return { text: String(answer.text), blocks: (answer.blocks as unknown[]) ?? [] };
}

async function propose(text: string, user = 'U1'): Promise<Feature> {
  await ask(`propose ${text}`, user);
  const features = await bot.donedone.store.list('T1');
  return features[features.length - 1]!;
}

function digestPosts(channel = 'C1') {
  return bot.slackApi
    .callsTo('chat.postMessage')
    .filter((c) => c.body.channel === channel && String(c.body.text).startsWith('donedone digest'));
}

function dmsTo(user: string) {
  return bot.slackApi
    .callsTo('chat.postMessage')
    .filter((c) => c.body.channel === user && String(c.body.text).startsWith('donedone:'));
}

/** Polls an asynchronous condition (job states live in Redis). */
async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function schedulerJobs(id: string): Promise<Job<JobData>[]> {
  const jobs = await bot.donedone.queue.getJobs(['delayed', 'waiting', 'active', 'completed']);
  return jobs.filter((j) => j.repeatJobKey === id);
}

describe('/donedone digest', () => {
  beforeEach(async () => {
    await start();
  });

  it('posts the board grouped by standing, with links, months used, owners and stale flags', async () => {
    const noExpectation = await propose('Dark mode', 'U2');
    const reports = await propose(
      'Saved reports expect reports_viewed_total{app="web"} >= 1 per month within 90 days',
    );
    // Launched two months ago, in use and on track: the digest shows its months used.
    await bot.donedone.store.update('T1', reports.id, (f) => ({
      ...f,
      status: 'in use',
      launchedAt: '2026-09-01T00:00:00.000Z',
      firstUseAt: '2026-09-02T00:00:00.000Z',
      lastVerdict: 'on track',
    }));
    expect((await ask(`flag ${reports.id} saved-reports-v2 since 2026-03-01`)).text).toContain(
      'stale already',
    );
    const answer = await ask('digest');
    expect(answer.text).toBe('Posting the digest in this channel now.');
    const post = await bot.slackApi.waitFor(() => digestPosts()[0]);
    expect(post.body.text).toBe(
      'donedone digest: 2 features: 1 on track, 1 without an expectation · 1 stale flag',
    );
    const shown = JSON.stringify(post.body.blocks);
    expect(shown).toContain('*On track* (1)');
    expect(shown).toContain('*No expectation yet* (1)');
    expect(shown).toContain('*Stale flags* (1)');
    expect(shown).toContain(
      `<https://slack.com/archives/C1/p${reports.cardTs!.replace('.', '')}|${reports.id}> Saved reports`,
    );
    expect(shown).toContain('used in 4 of the last 12 months');
    expect(shown).toContain(`${noExpectation.id}> Dark mode · <@U2>`);
    expect(shown).toContain('flag `saved-reports-v2` 245 days old');
    expect(measure(post.body.blocks as unknown[]).blocks).toBeLessThanOrEqual(50);
  });

  it('posts a digest of 1,000 features within Slack’s limits', async () => {
    const features = generateFeatures(1000, NOW);
    for (const f of features) {
      const { id: _id, team: _team, ...rest } = f;
      await bot.donedone.store.create('T1', () => rest);
    }
    await ask('digest');
    const post = await bot.slackApi.waitFor(() => digestPosts()[0], 20_000);
    const limits = measure(post.body.blocks as unknown[]);
    expect(limits.blocks).toBeLessThanOrEqual(50);
    expect(limits.longestSection).toBeLessThanOrEqual(3000);
    expect(limits.totalText).toBeLessThanOrEqual(12_000);
    expect(String(post.body.text)).toMatch(/^donedone digest: \d+ features: /);
    expect(JSON.stringify(post.body.blocks)).toContain('more');
    // How fast it is built is measured by bench/digest-build.ts, not here.
  });

  it('schedules in the asker’s zone or a named one, shows and stops the schedule, and refuses what it cannot read', async () => {
    const set = await ask('digest every monday 09:00 Europe/Berlin');
    expect(set.text).toContain(
      "This channel's digest is scheduled every Monday at 09:00 (Europe/Berlin). Next: Mon 2 Nov 2026 at 09:00 (Europe/Berlin).",
    );
    const id = digestSchedulerId('T1', 'C1');
    const scheduler = await bot.donedone.queue.getJobScheduler(id);
    expect(scheduler).toMatchObject({ pattern: '0 9 * * 1', tz: 'Europe/Berlin' });
    // BullMQ's next run is 09:00 Berlin time on a Monday, whatever the UTC offset of the day.
    const next = DateTime.fromMillis(Number(scheduler!.next), { zone: 'Europe/Berlin' });
    expect(next.toFormat('ccc HH:mm')).toBe('Mon 09:00');
    expect((await ask('digest schedule')).text).toContain('every Monday at 09:00 (Europe/Berlin)');

    // Without a zone: the asker's Slack time zone (the stand-in's users.info says Europe/Berlin).
    const daily = await ask('digest every day 18:30');
    expect(daily.text).toContain('every day at 18:30 (Europe/Berlin)');
    expect(bot.slackApi.callsTo('users.info').map((c) => c.body.user)).toContain('U1');
    expect(await bot.donedone.queue.getJobScheduler(id)).toMatchObject({ pattern: '30 18 * * *' });
    expect(await digestSchedulers()).toBe(1);

    const bad = await ask('digest every someday 9am');
    expect(bad.text).toContain('`someday` is not a weekday');
    expect(bad.text).toContain('/donedone digest every monday 09:00 Europe/Berlin');
    expect((await ask('digest every friday 25:00')).text).toContain('`25:00` is not a time of day');
    expect((await ask('digest every friday 10:00 Mars/Olympus')).text).toContain(
      '`Mars/Olympus` is not a time zone I know',
    );
    // A refused schedule leaves the one before it.
    expect(await bot.donedone.queue.getJobScheduler(id)).toMatchObject({ pattern: '30 18 * * *' });

    expect((await ask('digest off')).text).toContain("This channel's digest is off.");
    expect(await bot.donedone.queue.getJobScheduler(id)).toBeUndefined();
    expect(await schedulerJobs(id)).toEqual([]);
    expect((await ask('digest schedule')).text).toContain('This channel has no digest scheduled.');
  });
});

describe('the scheduler’s slots across daylight-saving changes', () => {
  it('holds 09:00 Berlin time as the offset moves (BullMQ’s own cron strategy, with a fake clock)', () => {
    const parsed = parseDigestSchedule('every monday 09:00 Europe/Berlin', 'UTC');
    if (!parsed.ok) throw new Error(parsed.error);
    const slots: string[] = [];
    // From Sunday 18 October 2026 (summer time) through the change on 25 October, and into spring 2027.
    let at = Date.parse('2026-10-18T12:00:00Z');
    for (let i = 0; i < 3; i++) {
      at = defaultRepeatStrategy(at, { pattern: parsed.cron, tz: parsed.schedule.tz })!;
      slots.push(new Date(at).toISOString());
    }
    at = Date.parse('2027-03-22T12:00:00Z');
    for (let i = 0; i < 2; i++) {
      at = defaultRepeatStrategy(at, { pattern: parsed.cron, tz: parsed.schedule.tz })!;
      slots.push(new Date(at).toISOString());
    }
    expect(slots).toEqual([
      '2026-10-19T07:00:00.000Z', // CEST, UTC+2
      '2026-10-26T08:00:00.000Z', // CET, UTC+1
      '2026-11-02T08:00:00.000Z',
      '2027-03-29T07:00:00.000Z', // summer time again from 28 March 2027
      '2027-04-05T07:00:00.000Z',
    ]);
  });
});

describe('a scheduled digest across restarts', () => {
  it('keeps one scheduler and one job per slot after two restarts, and posts each slot once', async () => {
    await start();
    const prefix = bot.prefix;
    await propose('Dark mode');
    await ask('digest every monday 09:00 Europe/Berlin');
    // Restart twice; each time the channel's digest is asked for again (as someone would after a deploy).
    for (let i = 0; i < 2; i++) {
      await bot.stop({ keepData: true });
      await start({ prefix });
      await ask('digest every monday 09:00 Europe/Berlin');
    }
    const id = digestSchedulerId('T1', 'C1');
    expect(await digestSchedulers()).toBe(1);
    const pending = await schedulerJobs(id);
    expect(pending).toHaveLength(1);
    const [job] = pending;
    expect(await job!.getState()).toBe('delayed');

    // The slot comes: the worker posts the digest, and the week's owner DMs go out.
    await job!.promote();
    const post = await bot.slackApi.waitFor(() => digestPosts()[0]);
    expect(post.body.text).toBe('donedone digest: 1 feature: 1 without an expectation');
    await bot.slackApi.waitFor(() => dmsTo('U1')[0]);

    // The same slot run again (a second process, a retry after a crash) posts nothing more.
    const done = await bot.donedone.queue.getJob(job!.id!);
    await until(async () => (await done!.getState()) === 'completed');
    await done!.retry('completed');
    await until(
      async () => (await done!.getState()) === 'completed' && (await done!.getState()) !== 'waiting',
    );
    await drained(bot.donedone.queue);
    expect((await bot.donedone.queue.getJob(job!.id!))!.returnvalue).toBe('already posted');
    expect(digestPosts()).toHaveLength(1);
    expect(dmsTo('U1')).toHaveLength(1);
    // And the scheduler has queued the next Monday, once.
    const next = (await schedulerJobs(id)).filter((j) => j.id !== job!.id);
    expect(next).toHaveLength(1);
    expect(
      DateTime.fromMillis(next[0]!.opts.prevMillis!, { zone: 'Europe/Berlin' }).toFormat('ccc HH:mm'),
    ).toBe('Mon 09:00');
    const dm = JSON.stringify(dmsTo('U1')[0]!.body.blocks);
    expect(dm).toContain('No expectation yet');
    expect(dm).toContain('Dark mode');
  });
});

describe('the App Home tab', () => {
  beforeEach(async () => {
    await start();
  });

  it('shows the viewer’s features and the team board; its buttons propose in the DM and open a feature', async () => {
    const mine = await propose('Bulk export expect bulk_export_total{app="web"} >= 200 per week');
    await propose('Dark mode', 'U2');
    await bot.slack.event({ type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' }, 'Ev1');
    const publish = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.publish')[0]);
    expect(publish.body.user_id).toBe('U1');
    const view = publish.body.view as { type: string; blocks: unknown[]; private_metadata: string };
    expect(view.type).toBe('home');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const shown = JSON.stringify(view.blocks);
    expect(shown).toContain('*Your features* · 1 feature: 1 not launched');
    expect(shown).toContain('*Team board* · 2 features: 1 without an expectation, 1 not launched');
    expect(shown).toContain('home_propose');
    // The button carries the install's epoch after the id (src/slack/outgoing.ts).
    expect(shown).toMatch(new RegExp(`"value":"${mine.id}\\|[0-9a-f]+"`));

    const container = { type: 'view', view_id: 'V1' };
    await bot.slack.interactive({
      type: 'block_actions',
      user: bot.slack.user('U1'),
      team: bot.slack.team(),
      trigger_id: 'trigger-home-1',
      container,
      view: { id: 'V1', type: 'home', private_metadata: view.private_metadata },
      actions: [{ type: 'button', action_id: 'home_propose', block_id: 'b1', action_ts: '1' }],
    });
    const opened = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open')[0]);
    const modal = opened.body.view as { callback_id: string; private_metadata: string };
    expect(modal.callback_id).toBe('propose_modal');
    expect(JSON.parse(modal.private_metadata)).toEqual({ channel: 'D1' });

    await bot.slack.interactive({
      type: 'block_actions',
      user: bot.slack.user('U1'),
      team: bot.slack.team(),
      trigger_id: 'trigger-home-2',
      container,
      view: { id: 'V1', type: 'home', private_metadata: view.private_metadata },
      actions: [
        { type: 'button', action_id: 'home_open_feature', block_id: 'b2', value: mine.id, action_ts: '2' },
      ],
    });
    const open = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open')[1]);
    const shownFeature = open.body.view as { type: string; title: { text: string }; blocks: unknown[] };
    expect(shownFeature.type).toBe('modal');
    expect(shownFeature.title.text).toBe(mine.id);
    expect(JSON.stringify(shownFeature.blocks)).toContain('Bulk export');
  });
});

describe('/donedone scorecard and flag', () => {
  beforeEach(async () => {
    await start();
  });

  it('scores each owner and the team', async () => {
    const a = await propose('Bulk export expect bulk_export_total >= 200 per week');
    await propose('Dark mode', 'U2');
    await bot.donedone.store.update('T1', a.id, (f) => ({
      ...f,
      status: 'met',
      launchedAt: '2026-09-01T00:00:00.000Z',
      firstUseAt: '2026-09-02T00:00:00.000Z',
    }));
    const card = await ask('scorecard');
    expect(card.text).toBe('donedone scorecard: 1 met, 0 missed (100% met) over 2 features proposed');
    const shown = JSON.stringify(card.blocks);
    expect(shown).toContain('<@U1>');
    expect(shown).toContain('<@U2>');
    const one = JSON.stringify((await ask('scorecard <@U2|ana>')).blocks);
    expect(one).toContain('<@U2>');
    expect(one).not.toContain('<@U1>');
    expect((await ask('scorecard maria')).text).toContain('is not an @mention');
  });

  it('links a flag (since today by default) and says when it goes stale', async () => {
    const f = await propose('Bulk export');
    const answer = await ask(`flag ${f.id} bulk-export-v2`);
    expect(answer.text).toContain(`Linked flag \`bulk-export-v2\` to *${f.id}* since 2026-11-01`);
    expect(answer.text).toContain('from 2027-05-01 (after 180 days)');
    expect((await bot.donedone.store.get('T1', f.id))!.flag).toEqual({
      key: 'bulk-export-v2',
      since: '2026-11-01',
    });
    // Decided for good: the flag is stale at once.
    await bot.donedone.store.update('T1', f.id, (x) => ({
      ...x,
      status: 'decided',
      decision: { value: 'keep', by: 'U1', at: '2026-10-30T00:00:00.000Z' },
    }));
    expect((await ask(`flag ${f.id} bulk-export-v2`)).text).toContain('the flag is stale already');
    expect((await ask('flag F-99 x')).text).toContain('There is no feature F-99');
  });
});
