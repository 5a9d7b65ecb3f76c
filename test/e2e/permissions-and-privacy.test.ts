import type { AuditEntry } from '../../src/domain/audit';
import type { Feature } from '../../src/domain/model';
import { dataNodes } from '../../src/store/redis-connection';
import { type RunningBot, startBot } from '../support/bot';
import { proposedOn } from '../support/proposed-on';
import { deleteKeysUnder } from '../support/redis-cluster';
import { targetRedis } from '../support/target-redis';
import { drainedBot } from '../support/wait';

/**
 * Two people (and a few more) in one workspace, through signed requests, with the Web API stand-in
 * answering conversations.info, conversations.members and users.info:
 * - U1 owns and proposes; U3 is in the private channel G1 with U1; U2 is a stranger to both;
 * - UADM is a workspace admin (users.info), UCFG is in DONEDONE_ADMINS.
 */
const API_TOKEN = 'permissions-test-token-0123456789';
let bot: RunningBot;

beforeEach(async () => {
  bot = await startBot({ env: { DONEDONE_API_TOKEN: API_TOKEN, DONEDONE_ADMINS: 'UCFG' } });
  bot.slackApi.conversations.set('G1', { kind: 'private', members: ['UBOT', 'U1', 'U3', 'U4'] });
  bot.slackApi.people.set('UADM', { admin: true });
});

afterEach(async () => {
  await bot.stop();
});

/** Sends a command and returns the ephemeral answer (in the acknowledgement or through the response URL). */
async function ask(text: string, user = 'U1', channel = 'C1'): Promise<{ text: string; blocks: unknown[] }> {
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(text, user, channel);
  if (body) return { text: body, blocks: [] };
  await bot.slackApi.waitFor(() => bot.slackApi.responses.length > before, 15_000);
  const answer = bot.slackApi.responses[before]!.body;
  return { text: String(answer.text), blocks: (answer.blocks as unknown[]) ?? [] };
}

async function propose(title: string, user = 'U1', channel = 'C1'): Promise<Feature> {
  await ask(`propose ${title}`, user, channel);
  const features = await bot.donedone.store.list('T1');
  return features[features.length - 1]!;
}

async function historyOf(id: string): Promise<AuditEntry[]> {
  const body = (await (await api(`/api/features/${id}`)).json()) as { data: { history: AuditEntry[] } };
  return body.data.history;
}

const feature = async (id: string) => (await bot.donedone.store.get('T1', id))!;
const everything = (x: unknown) => JSON.stringify(x);

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${bot.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
  });
}

describe('who may change a feature', () => {
  const EXPECTATION = 'bulk_export_total >= 200 per week within 30 days';

  it('refuses every change by a stranger, naming who can, and changes nothing', async () => {
    const f = await propose('Bulk export');
    const stored = await feature(f.id);
    const postsBefore = bot.slackApi.calls.filter((c) =>
      /^chat\.(postMessage|update)$/.test(c.method),
    ).length;
    for (const change of [
      `expect ${f.id} ${EXPECTATION}`,
      `launch ${f.id}`,
      `drop ${f.id} not needed`,
      `flag ${f.id} bulk-export-v2`,
      `canary ${f.id} checkout_total node=canary`,
      `owner ${f.id} <@U2|lee>`,
    ]) {
      const answer = await ask(change, 'U2');
      expect(answer.text).toContain(`Only <@U1> or an admin can change ${f.id}.`);
    }
    expect(await feature(f.id)).toEqual(stored);
    const history = await historyOf(f.id);
    expect(history.map((h) => h.what)).toEqual(['proposed']);
    // No card was updated, nothing posted in its thread.
    expect(bot.slackApi.calls.filter((c) => /^chat\.(postMessage|update)$/.test(c.method))).toHaveLength(
      postsBefore,
    );
  });

  it('lets the owner, the proposer, DONEDONE_ADMINS and workspace admins change it', async () => {
    const f = await propose('Bulk export');
    // A workspace admin (users.info says so) links a flag.
    expect((await ask(`flag ${f.id} bulk-export-v2 since 2026-10-01`, 'UADM')).text).toContain('Linked flag');
    // An admin by setting records the expectation.
    expect((await ask(`expect ${f.id} ${EXPECTATION}`, 'UCFG')).text).toContain(`Recorded for *${f.id}*`);
    // The owner hands it over to U2; U2 may now launch it, and U1 (still its proposer) may still change it.
    expect((await ask(`owner ${f.id} <@U2|lee>`, 'U1')).text).toContain(`now belongs to <@U2>`);
    expect((await feature(f.id)).ownerId).toBe('U2');
    expect((await ask(`launch ${f.id}`, 'U2')).text).toContain(`Launched *${f.id}*`);
    expect((await ask(`drop ${f.id} superseded`, 'U1')).text).toContain(`Dropped *${f.id}*`);
    // A stranger still cannot.
    expect((await ask(`owner ${f.id} <@U3|kim>`, 'U3')).text).toContain(
      `Only <@U2>, <@U1> or an admin can change ${f.id}.`,
    );

    // Every change is in the history: who, what, before → after, in order.
    const history = await historyOf(f.id);
    const lines = history.map((h) => `${h.by} ${h.what}: ${h.before} → ${h.after}`);
    expect(lines).toEqual([
      'U1 proposed: null → Bulk export',
      'UADM flag: null → bulk-export-v2 since 2026-10-01',
      'UCFG status: proposed → measurable',
      `UCFG expectation: null → ${EXPECTATION}`,
      'U1 owner: U1 → U2',
      'U2 status: measurable → launched',
      `U2 launch: null → ${bot.clock.now.toUTC().startOf('second').toISO()}`,
      'U1 status: launched → dropped',
      'U1 drop reason: null → superseded',
    ]);
    // `show` lists it too, to the asker only.
    const shown = await ask(`show ${f.id}`, 'U3');
    const text = everything(shown.blocks);
    expect(text).toContain('*History*');
    expect(text).toContain('<@U1> · owner: <@U1> → <@U2>');
    expect(text).toContain('<@UADM> · flag: _none_ → `bulk-export-v2 since 2026-10-01`');
  });

  it('refuses a launch date before the proposal, and the API launch is recorded as the API', async () => {
    const f = await propose('Bulk export');
    const day = bot.clock.now.toUTC().toISODate()!;
    const refused = await ask(`launch ${f.id} 2026-10-01`);
    expect(refused.text).toContain(`2026-10-01 is before ${f.id} was proposed (${day})`);
    expect((await feature(f.id)).launchedAt).toBeUndefined();
    const viaApi = await api(`/api/features/${f.id}/launch`, {
      method: 'POST',
      body: JSON.stringify({ at: '1970-01-01' }),
    });
    expect(viaApi.status).toBe(400);
    expect((await feature(f.id)).launchedAt).toBeUndefined();
    const ok = await api(`/api/features/${f.id}/launch`, {
      method: 'POST',
      body: JSON.stringify({ at: day }),
    });
    expect(ok.status).toBe(200);
    const history = await historyOf(f.id);
    expect(history.find((h) => h.what === 'launch')).toMatchObject({
      by: 'api',
      after: `${day}T00:00:00.000Z`,
    });
  });

  it('the expectation form: a stranger cannot open it or submit it to make themselves owner', async () => {
    const f = await propose('Bulk export');
    // The card's "Answer the question" button.
    const before = bot.slackApi.responses.length;
    await bot.slack.interactive(blockAction('answer_question', f.id, 'U2', 'click-1'));
    const refusal = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
    expect(String(refusal.body.text)).toContain(`Only <@U1> or an admin can change ${f.id}.`);
    expect(bot.slackApi.callsTo('views.open')).toHaveLength(0);

    // A submission of the form (as if opened earlier) naming U2 owner.
    await bot.slack.interactive(answerSubmission(f.id, 'U2', 'U2', 'V1'));
    const told = await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.postEphemeral').find((c) => c.body.user === 'U2'),
    );
    expect(String(told.body.text)).toContain(`Only <@U1> or an admin can change ${f.id}.`);
    const after = await feature(f.id);
    expect(after.ownerId).toBe('U1');
    expect(after.expectation).toBeUndefined();

    // The owner's submission hands it to U3 and records the expectation.
    await bot.slack.interactive(answerSubmission(f.id, 'U1', 'U3', 'V2'));
    await waitFor(async () => (await feature(f.id)).ownerId === 'U3');
    expect((await feature(f.id)).expectation?.text).toBe('bulk_export_total >= 200 per week within 30 days');
  });

  it('retro: taking a decision already taken, or iterating, is for the owner, the proposer and admins', async () => {
    const f = await propose('Bulk export');
    await bot.donedone.store.update('T1', f.id, (x) => ({
      ...x,
      status: 'decided',
      decision: { value: 'keep', by: 'U1', at: '2026-10-31T00:00:00.000Z' },
      retro: {
        channel: 'C1',
        ts: '1793491200.999999',
        openedAt: '2026-10-31T00:00:00.000Z',
        cycle: 1,
        launchedAt: '2026-10-01T00:00:00.000Z',
        actual: { value: 336, verdict: 'met', at: '2026-10-31T00:00:00.000Z' },
      },
    }));
    const before = bot.slackApi.responses.length;
    await bot.slack.interactive({
      ...blockAction('retro_remove', f.id, 'U2', 'click-r'),
      message: { ts: '1793491200.999999', type: 'message', text: 'retro' },
    });
    const refusal = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
    expect(String(refusal.body.text)).toContain(`Only <@U1> or an admin can change ${f.id}.`);
    expect((await feature(f.id)).decision?.value).toBe('keep');
    // A workspace admin may change it.
    await bot.slack.interactive({
      ...blockAction('retro_remove', f.id, 'UADM', 'click-r2'),
      message: { ts: '1793491200.999999', type: 'message', text: 'retro' },
    });
    await waitFor(async () => (await feature(f.id)).decision?.value === 'remove');
    expect((await feature(f.id)).decision?.by).toBe('UADM');
  });
});

describe('private stays private', () => {
  async function board() {
    const open = await propose('Public search');
    const secret = await propose('Secret acquisition expect bulk_export_total >= 200 per week', 'U1', 'G1');
    return { open, secret };
  }

  it('a non-member cannot show, check, use or list a feature of a private channel; members and the owner can', async () => {
    const { open, secret } = await board();
    const notFound = `There is no feature ${secret.id} that you can see`;
    for (const cmd of [
      `show ${secret.id}`,
      `check ${secret.id}`,
      `usage ${secret.id}`,
      `retro ${secret.id}`,
    ]) {
      expect((await ask(cmd, 'U2')).text).toContain(notFound);
    }
    // Nothing was posted in the private thread by the stranger's check.
    expect(bot.slackApi.callsTo('chat.postMessage').filter((c) => c.body.channel === 'G1')).toHaveLength(1);
    const strangerList = everything((await ask('list all', 'U2')).blocks);
    expect(strangerList).toContain('Public search');
    expect(strangerList).not.toContain('Secret acquisition');
    expect(everything((await ask('list <@U1|maria>', 'U2')).blocks)).not.toContain('Secret');

    // A member sees it; so does its owner (who is also a member) and, had they left, its owner anyway.
    expect(everything((await ask(`show ${secret.id}`, 'U3')).blocks)).toContain('Secret acquisition');
    expect(everything((await ask('list all', 'U3')).blocks)).toContain('Secret acquisition');
    expect(everything((await ask('list all', 'U1')).blocks)).toContain('Secret acquisition');
    expect(open.channel).toBe('C1');

    // A member may check it (a read), and it is posted in the private thread.
    const checked = await ask(`check ${secret.id}`, 'U3');
    expect(checked.text).toMatch(new RegExp(`^Checked \\*${secret.id}\\*`));
  });

  it('scorecard counts only what the asker may see', async () => {
    await board();
    expect((await ask('scorecard', 'U2')).text).toContain('over 1 features proposed');
    expect((await ask('scorecard', 'U3')).text).toContain('over 2 features proposed');
  });

  it('the owner still sees their own, even when not a member (any more)', async () => {
    const { secret } = await board();
    bot.slackApi.conversations.set('G1', { kind: 'private', members: ['UBOT', 'U3'] });
    await bot.slack.event(
      { type: 'member_left_channel', user: 'U1', channel: 'G1', channel_type: 'G', team: 'T1' },
      'Ev-left-1',
    );
    expect(everything((await ask(`show ${secret.id}`, 'U1')).blocks)).toContain('Secret acquisition');
  });

  it('membership events keep it current: who leaves stops seeing it, who joins starts', async () => {
    const { secret } = await board();
    expect(everything((await ask(`show ${secret.id}`, 'U4')).blocks)).toContain('Secret acquisition');
    await bot.slack.event(
      { type: 'member_left_channel', user: 'U4', channel: 'G1', channel_type: 'G', team: 'T1' },
      'Ev-left-4',
    );
    await waitFor(async () => (await ask(`show ${secret.id}`, 'U4')).text.includes('that you can see'));
    expect((await ask(`show ${secret.id}`, 'U2')).text).toContain('that you can see');
    await bot.slack.event(
      { type: 'member_joined_channel', user: 'U2', channel: 'G1', channel_type: 'G', team: 'T1' },
      'Ev-join-2',
    );
    await waitFor(async () => everything((await ask(`show ${secret.id}`, 'U2')).blocks).includes('Secret'));
  });

  it('a DM and a group DM are private too', async () => {
    bot.slackApi.conversations.set('D9', { kind: 'im', members: ['UBOT', 'U3'] });
    bot.slackApi.conversations.set('M9', { kind: 'mpim', members: ['UBOT', 'U3', 'U4'] });
    const dm = await propose('Dm idea', 'U3', 'D9');
    const group = await propose('Group idea', 'U3', 'M9');
    expect((await ask(`show ${dm.id}`, 'U4')).text).toContain('that you can see');
    expect(everything((await ask(`show ${group.id}`, 'U4')).blocks)).toContain('Group idea');
    expect((await ask(`show ${group.id}`, 'U2')).text).toContain('that you can see');
  });

  it('the App Home and its Open button show a stranger nothing private', async () => {
    const { secret } = await board();
    for (const user of ['U2', 'U3']) {
      await bot.slack.event(
        { type: 'app_home_opened', user, channel: `D-${user}`, tab: 'home' },
        `Ev-home-${user}`,
      );
    }
    const published = (user: string) =>
      bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.publish').find((c) => c.body.user_id === user));
    expect(everything((await published('U2')).body.view)).not.toContain('Secret acquisition');
    expect(everything((await published('U2')).body.view)).toContain('Public search');
    expect(everything((await published('U3')).body.view)).toContain('Secret acquisition');

    await bot.slack.interactive({
      ...blockAction('home_open_feature', secret.id, 'U2', 'click-h'),
      view: { id: 'VH' },
    });
    const modal = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open')[0]);
    expect(everything(modal.body.view)).not.toContain('Secret acquisition');
    expect(everything(modal.body.view)).toContain(`There is no feature ${secret.id} any more.`);
  });

  it('a digest in a public channel lists public features only; in the private channel, its own too', async () => {
    await board();
    const digestIn = (channel: string) =>
      bot.slackApi.waitFor(
        () =>
          bot.slackApi
            .callsTo('chat.postMessage')
            .find((c) => c.body.channel === channel && String(c.body.text).startsWith('donedone digest')),
        15_000,
      );
    await ask('digest', 'U2', 'C1');
    const open = everything((await digestIn('C1')).body.blocks);
    expect(open).toContain('Public search');
    expect(open).not.toContain('Secret acquisition');
    await ask('digest', 'U3', 'G1');
    const inside = everything((await digestIn('G1')).body.blocks);
    expect(inside).toContain('Secret acquisition');
    expect(inside).toContain('Public search');
  });
});

describe('suggestions name only what the reader may see', () => {
  it('a past feature of a private channel is not offered as similar to a stranger, and is to a member', async () => {
    await ask('propose Bulk export for finance expect bulk_export_total >= 200 per week', 'U3', 'G1');
    // The stranger proposes a similar title in a public channel: the answer is theirs alone.
    const stranger = await ask('propose Bulk export for sales', 'U2', 'C1');
    expect(everything(stranger)).not.toContain('finance');
    // A member of G1 proposing the same gets the private feature as a similar one.
    const member = await ask('propose Bulk export for marketing', 'U3', 'C1');
    expect(everything(member)).toContain('Bulk export for finance');
  });
});

describe('no user text pings', () => {
  /** A small deterministic generator, so a failure can be replayed. */
  function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }
  // What Slack sends for a typed @channel etc. (slash commands escape mentions), and for a typed literal.
  const MENTIONS = [
    '<!channel>',
    '<!here>',
    '<!everyone>',
    '<!here|here>',
    '<!subteam^S0123ABC|@devs>',
    '&lt;!channel&gt;',
    '&lt;!everyone&gt;',
    '<!subteam^S9>',
  ];
  const WORDS = ['Bulk', 'export', '&amp;', '&lt;b&gt;', 'R&amp;D', '*bold*', 'x'];

  it('fuzzed titles and expectations with mention syntax never reach Slack as a live mention', async () => {
    const random = prng(12);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    for (let i = 0; i < 12; i++) {
      const words = Array.from({ length: 5 }, () => (random() < 0.4 ? pick(MENTIONS) : pick(WORDS)));
      const title = words.join(' ');
      await ask(`propose ${title}`);
      const id = `F-${i + 1}`;
      // Refused in the acknowledgement itself, echoing the metric: the ack is a way out to Slack too.
      const refused = await ask(`expect ${id} ${pick(MENTIONS)} >= 200 per week`);
      expect(refused.text).not.toMatch(/<!(channel|here|everyone|subteam)/i);
      await ask(`drop ${id} ${pick(MENTIONS)} reason`);
      await ask(`show ${id}`);
    }
    await ask(`frobnicate ${MENTIONS[0]}`);
    await ask('list all');
    await bot.slack.event({ type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' }, 'Ev-home');
    await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.publish')[0]);
    expect(bot.donedone.store).toBeDefined();
    const stored = await bot.donedone.store.list('T1');
    expect(stored).toHaveLength(12);
    // Some titles do hold mentions (what was typed is kept as typed)…
    expect(stored.some((f) => f.title.includes('<!'))).toBe(true);
    // …and nothing the bot sent to Slack (Web API calls, response_url answers) holds a live one.
    const sent = [...bot.slackApi.calls.map((c) => c.body), ...bot.slackApi.responses.map((r) => r.body)];
    expect(sent.length).toBeGreaterThan(40);
    for (const body of sent) expect(everything(body)).not.toMatch(/<!(channel|here|everyone|subteam)/i);
  });

  it('a retro with a chart whose metric selector holds mention syntax: its alt text and title do not ping', async () => {
    // The label value is a regex that also matches the fixture's `app="web"` series, so the chart has data.
    const f = await propose(
      '<!channel> export expect bulk_export_total{app=~"web|<!here>"} >= 200 per week within 30 days',
    );
    expect(f.expectation?.text).toContain('<!here>');
    await proposedOn(bot);
    await ask(`launch ${f.id} 2026-10-01`);
    const upload = await bot.slackApi.waitFor(
      () => bot.slackApi.callsTo('files.getUploadURLExternal')[0],
      20_000,
    );
    expect(String(upload.body.alt_text)).toContain('&lt;!here&gt;');
    await bot.slackApi.waitFor(() => bot.slackApi.callsTo('files.completeUploadExternal')[0], 20_000);
    const sent = [...bot.slackApi.calls.map((c) => c.body), ...bot.slackApi.responses.map((r) => r.body)];
    expect(sent.some((b) => everything(b).includes('&lt;!channel&gt;'))).toBe(true);
    for (const body of sent) expect(everything(body)).not.toMatch(/<!(channel|here|everyone|subteam)/i);
  });

  it('& and < round-trip: stored as typed, escaped exactly once in the card', async () => {
    // Slack sends a typed `R&D <fast> & co` escaped:
    const f = await propose('R&amp;D &lt;fast&gt; &amp; co');
    expect(f.title).toBe('R&D <fast> & co');
    const card = bot.slackApi.callsTo('chat.postMessage').find((c) => c.body.channel === 'C1')!;
    expect(String(card.body.text)).toContain('R&amp;D &lt;fast&gt; &amp; co');
    expect(everything(card.body)).not.toContain('&amp;amp;');
  });

  it('the acknowledgement of a bad command does not ping either', async () => {
    const { body } = await bot.slack.command('list <!channel>', 'U1');
    expect(body).toContain('&lt;!channel&gt;');
    expect(body).not.toContain('<!channel>');
  });
});

describe('replays, epochs and store failures', () => {
  it('a replayed signed slash command is acknowledged and changes nothing', async () => {
    await propose('Bulk export');
    const res = await bot.slack.replay();
    expect(res.status).toBe(200);
    await drainedBot(bot.donedone);
    expect(await bot.donedone.store.list('T1')).toHaveLength(1);
    expect(bot.slackApi.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('buttons carry the install epoch; a card from before a store reset does nothing', async () => {
    await propose('Bulk export');
    const card = bot.slackApi.callsTo('chat.postMessage')[0]!;
    const values = [...everything(card.body.blocks).matchAll(/"value":"(F-1\|[0-9a-f]+)"/g)].map((m) => m[1]);
    expect(values.length).toBeGreaterThan(0);
    const oldValue = values[0]!;

    // The store is reset (a Redis without persistence restarted): F-1 is issued again, to another feature.
    const redis = targetRedis();
    await deleteKeysUnder(redis, bot.prefix);
    redis.disconnect();
    await propose('Dark mode');
    const newValue = [
      ...everything(bot.slackApi.callsTo('chat.postMessage')[1]!.body.blocks).matchAll(
        /"value":"(F-1\|[0-9a-f]+)"/g,
      ),
    ].map((m) => m[1])[0]!;
    expect(newValue).not.toBe(oldValue);

    const before = bot.slackApi.responses.length;
    await bot.slack.interactive(blockAction('mark_launched', oldValue, 'U1', 'click-old'));
    const refusal = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
    expect(String(refusal.body.text)).toContain('older than donedone');
    expect((await feature('F-1')).launchedAt).toBeUndefined();

    await bot.slack.interactive(blockAction('mark_launched', newValue, 'U1', 'click-new'));
    await waitFor(async () => (await feature('F-1')).launchedAt !== undefined);
    expect((await feature('F-1')).title).toBe('Dark mode');
  });

  it('refuses to start on a Redis without persistence unless DONEDONE_ALLOW_VOLATILE_REDIS=1', async () => {
    // On a cluster, every master is asked: one without persistence is enough to refuse.
    const redis = targetRedis();
    let volatile = false;
    for (const node of await dataNodes(redis)) {
      const [, appendonly] = (await node.config('GET', 'appendonly')) as string[];
      const [, save] = (await node.config('GET', 'save')) as string[];
      if (appendonly !== 'yes' && !save) volatile = true;
    }
    redis.disconnect();
    const attempt = startBot({ env: { DONEDONE_ALLOW_VOLATILE_REDIS: '0' } });
    if (volatile) {
      await expect(attempt).rejects.toThrow(
        /Redis (Cluster master [\d.:, ]+ )?has no persistence.*DONEDONE_ALLOW_VOLATILE_REDIS=1/s,
      );
    } else {
      await (await attempt).stop();
    }
  });
});

describe('limits on one person', () => {
  it('check: once a minute per person and feature, saying when to ask again', async () => {
    const f = await propose('Bulk export expect bulk_export_total >= 200 per week');
    expect((await ask(`check ${f.id}`, 'U2')).text).toMatch(/^Checked/);
    const again = await ask(`check ${f.id}`, 'U2');
    const wait = Number(/Ask again in (\d+) seconds?/.exec(again.text)?.[1]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect((await bot.donedone.checks.list('T1', f.id)).length).toBe(1);
    // Someone else may.
    expect((await ask(`check ${f.id}`, 'U3')).text).toMatch(/^Checked/);
  });

  it('digest now: once per channel per 10 minutes', async () => {
    await propose('Bulk export');
    expect((await ask('digest', 'U1', 'C1')).text).toContain('Posting the digest');
    const again = await ask('digest', 'U2', 'C1');
    expect(again.text).toMatch(/less than 10 minutes ago\. Ask again in (10|9) minutes/);
    expect((await ask('digest', 'U2', 'C2')).text).toContain('Posting the digest');
  });

  it('a Slack request body over 1 MB is refused before parsing; a malformed API path answers 400', async () => {
    const big = `payload=${'x'.repeat(1024 * 1024 + 10)}`;
    const res = await bot.slack.raw(big).catch((err: Error) => err);
    // The bot answers 413 before reading the body (it may close the connection while it is still sent).
    if (res instanceof Error) expect(res.message).toMatch(/fetch failed|ECONNRESET|EPIPE|socket/i);
    else expect(res.status).toBe(413);
    const bad = await api('/api/features/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('not a valid URL path');
  });
});

function blockAction(actionId: string, value: string, user: string, responseId: string) {
  return {
    type: 'block_actions',
    user: bot.slack.user(user),
    team: { id: 'T1', domain: 'acme' },
    channel: { id: 'C1', name: 'planning' },
    container: { type: 'message', message_ts: '1793491200.000001', channel_id: 'C1' },
    message: { ts: '1793491200.000001', type: 'message', text: 'card' },
    trigger_id: `trigger-${responseId}`,
    api_app_id: 'A1',
    token: 'legacy',
    response_url: `${bot.slackApi.url}/response/${responseId}`,
    actions: [
      {
        action_id: actionId,
        block_id: 'b',
        value,
        type: 'button',
        action_ts: '1793491300.000001',
        text: { type: 'plain_text', text: actionId },
      },
    ],
  };
}

function answerSubmission(featureId: string, user: string, owner: string, viewId: string) {
  const value = (v: string) => ({ value: { type: 'plain_text_input', value: v } });
  const option = (v: string) => ({ value: { type: 'static_select', selected_option: { value: v } } });
  return {
    type: 'view_submission',
    user: bot.slack.user(user),
    team: bot.slack.team(),
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trigger-${viewId}`,
    view: {
      id: viewId,
      hash: `h-${viewId}`,
      type: 'modal',
      callback_id: 'answer_modal',
      private_metadata: JSON.stringify({ channel: 'C1', featureId }),
      state: {
        values: {
          metric: { value: { type: 'external_select', selected_option: { value: 'bulk_export_total' } } },
          op: option('>='),
          target: value('200'),
          window: option('week'),
          deadline: value('30'),
          owner: { value: { type: 'users_select', selected_user: owner } },
        },
      },
    },
  };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
