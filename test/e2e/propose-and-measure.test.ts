import { type RunningBot, startBot } from '../support/bot';
import { sign } from '../support/slack-requests';
import { drainedBot } from '../support/wait';

let bot: RunningBot;

beforeEach(async () => {
  bot = await startBot();
});
afterEach(async () => {
  await bot.stop();
});

function texts(blocks: unknown): string {
  return JSON.stringify(blocks);
}

describe('/donedone propose', () => {
  it('posts a card with the expectation, checks the metric has data, and stores F-1', async () => {
    const { res, body } = await bot.slack.command(
      'propose Bulk export expect bulk_export_total >= 200 per week within 30 days',
    );
    expect(res.status).toBe(200);
    expect(body).toBe('');
    const post = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.postMessage')[0]);
    expect(post.body.channel).toBe('C1');
    expect(post.token).toBe('xoxb-test-token');
    expect(texts(post.body.blocks)).toContain('F-1 · Bulk export');
    expect(texts(post.body.blocks)).toContain('at least 200 `bulk_export_total` per week');
    const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(String(reply.body.text)).toContain('Proposed *F-1*');
    const feature = await bot.donedone.store.get('T1', 'F-1');
    expect(feature).toMatchObject({
      id: 'F-1',
      title: 'Bulk export',
      status: 'measurable',
      instrumented: 'yes',
      ownerId: 'U1',
    });
    // The card's ts is the one Slack answered the post with: the card updates go to that message.
    expect(feature?.cardTs).toMatch(/^\d+\.\d{6}$/);
    const update = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.update')[0]);
    expect(update.body).toMatchObject({ channel: 'C1', ts: feature?.cardTs });
  });

  it('numbers features sequentially per workspace', async () => {
    await bot.slack.command('propose One');
    await bot.slack.command('propose Two');
    await bot.slackApi.waitFor(() => bot.slackApi.responses.length >= 2);
    const ids = (await bot.donedone.store.list('T1')).map((f) => f.id);
    expect(ids).toEqual(['F-1', 'F-2']);
  });

  it('asks the question when there is no expectation, with a button', async () => {
    await bot.slack.command('propose Dark mode');
    const post = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.postMessage')[0]);
    expect(texts(post.body.blocks)).toContain('How will we know it works in production?');
    expect(texts(post.body.blocks)).toContain('answer_question');
    expect(await bot.donedone.store.get('T1', 'F-1')).toMatchObject({ status: 'proposed' });
  });

  it('warns that a metric with no data is not instrumented, and keeps the expectation', async () => {
    await bot.slack.command('propose Magic expect magic_button_total >= 10 per week');
    const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    expect(String(reply.body.text)).toContain('not instrumented');
    const update = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.update')[0]);
    expect(texts(update.body.blocks)).toContain('not instrumented');
    expect(await bot.donedone.store.get('T1', 'F-1')).toMatchObject({
      instrumented: 'no',
      status: 'measurable',
    });
  });

  it('opens the proposal modal when given no title', async () => {
    await bot.slack.command('propose');
    const open = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open')[0]);
    expect((open.body.view as { callback_id: string }).callback_id).toBe('propose_modal');
  });
});

describe('bad input', () => {
  it.each([
    ['frobnicate F-1', '`frobnicate` is not a donedone command'],
    ['propose X expect bulk_export_total >= lots', '`lots` is not a number'],
    ['propose X expect bulk_export_total >= 200 per fortnight', '`per fortnight` is not a window'],
    [`propose ${'x'.repeat(151)}`, 'keep it to 150 or fewer'],
    ['propose X expect checkout_total{variant=new} >= 5', 'must be in double quotes'],
    ['expect F-x bulk_export_total >= 5', '`F-x` is not a feature id'],
  ])(
    '`/donedone %s` is refused in the acknowledgement, naming the mistake with an example',
    async (text, message) => {
      const { res, body } = await bot.slack.command(text);
      expect(res.status).toBe(200);
      const json = JSON.parse(body);
      expect(json.response_type).toBe('ephemeral');
      expect(json.text).toContain(message);
      expect(json.text).toContain('Example: `');
      expect(await bot.donedone.store.list('T1')).toEqual([]);
      expect(bot.slackApi.callsTo('chat.postMessage')).toEqual([]);
    },
  );

  it('answers an unknown feature id, changing nothing', async () => {
    await bot.slack.command('check F-42');
    const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    expect(reply.body.text).toContain('There is no feature F-42');
    expect(bot.slackApi.callsTo('chat.postMessage')).toEqual([]);
  });

  it('rejects requests with a bad or stale signature with 401 and no effect', async () => {
    const form = new URLSearchParams({
      team_id: 'T1',
      channel_id: 'C1',
      user_id: 'U1',
      command: '/donedone',
      text: 'propose Evil',
      response_url: `${bot.slackApi.url}/response/x`,
      trigger_id: 't',
    }).toString();
    const bad = await fetch(`${bot.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...sign(form, undefined, 'wrong-secret'),
      },
      body: form,
    });
    expect(bad.status).toBe(401);
    const stale = await fetch(`${bot.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...sign(form, Math.floor(Date.now() / 1000) - 600),
      },
      body: form,
    });
    expect(stale.status).toBe(401);
    await drainedBot(bot.donedone);
    expect(await bot.donedone.store.list('T1')).toEqual([]);
    expect(bot.slackApi.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
  });
});

describe('/donedone check', () => {
  it('measures a feature against real Prometheus history and posts in its thread', async () => {
    await bot.slack.command('propose Bulk export expect bulk_export_total{app="web"} >= 200 per week');
    await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    const card = bot.slackApi.callsTo('chat.postMessage')[0]!;
    await bot.slack.command('check F-1');
    const posted = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.postMessage')[1]);
    const cardTs = (await bot.donedone.store.get('T1', 'F-1'))?.cardTs;
    expect(posted.body.thread_ts).toBe(cardTs);
    expect(card.body.channel).toBe('C1');
    const text = texts(posted.body.blocks);
    expect(text).toContain('*Actual* 336');
    expect(text).toContain('on track');
    const blocks = posted.body.blocks as { elements?: { text: string }[] }[];
    expect(blocks[1]?.elements?.[0]?.text).toBe('Query: `sum(increase(bulk_export_total{app="web"}[7d]))`');
    const checks = await bot.donedone.checks.list('T1', 'F-1');
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ value: 336, verdict: 'on track' });
  });
});

describe('show, list, help answer only the asker', () => {
  it('shows a feature ephemerally', async () => {
    await bot.slack.command('propose Bulk export expect bulk_export_total >= 200 per week');
    await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    await bot.slack.command('show f-1');
    const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[1]);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(texts(reply.body.blocks)).toContain('F-1 · Bulk export');
  });

  it('lists mine, all and @user', async () => {
    await bot.slack.command('propose Mine', 'U1');
    await bot.slack.command('propose Theirs', 'U2');
    await bot.slackApi.waitFor(() => bot.slackApi.responses.length >= 2);
    await bot.slack.command('list mine', 'U1');
    const mine = await bot.slackApi.waitFor(() => bot.slackApi.responses[2]);
    expect(texts(mine.body.blocks)).toContain('Mine');
    expect(texts(mine.body.blocks)).not.toContain('Theirs');
    await bot.slack.command('list <@U2|lee>', 'U1');
    const theirs = await bot.slackApi.waitFor(() => bot.slackApi.responses[3]);
    expect(texts(theirs.body.blocks)).toContain('Theirs');
    expect(texts(theirs.body.blocks)).not.toContain('Mine');
  });

  it('help is ephemeral in the acknowledgement', async () => {
    const { body } = await bot.slack.command('help');
    expect(JSON.parse(body)).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.parse(body).text).toContain('/donedone propose');
  });
});

describe('/donedone drop', () => {
  it('takes a feature off the board once, updates its card, and answers an unknown id', async () => {
    await bot.slack.command('propose Doomed');
    await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    await bot.slack.command('drop F-1 superseded by F-7');
    const dropped = await bot.slackApi.waitFor(() => bot.slackApi.responses[1]);
    expect(dropped.body.text).toBe('Dropped *F-1*: it is off the board.');
    expect(await bot.donedone.store.get('T1', 'F-1')).toMatchObject({
      status: 'dropped',
      droppedReason: 'superseded by F-7',
    });
    const update = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.update')[0]);
    expect(JSON.stringify(update.body.blocks)).not.toContain('answer_question');
    await bot.slack.command('drop F-1');
    const again = await bot.slackApi.waitFor(() => bot.slackApi.responses[2]);
    expect(again.body.text).toBe('F-1 is already off the board.');
    await bot.slack.command('drop F-9');
    const unknown = await bot.slackApi.waitFor(() => bot.slackApi.responses[3]);
    expect(unknown.body.text).toContain('There is no feature F-9');
  });
});

describe('card buttons', () => {
  /** Clicks a button on F-1's card as Slack sends it: a signed block_actions payload. */
  async function clickOnCard(actionId: string, featureId: string, cardTs: string, n: number, user = 'U2') {
    const { res } = await bot.slack.interactive({
      type: 'block_actions',
      user: bot.slack.user(user),
      team: { id: 'T1', domain: 'acme' },
      channel: { id: 'C1', name: 'planning' },
      container: { type: 'message', message_ts: cardTs, channel_id: 'C1' },
      message: { ts: cardTs, type: 'message', text: 'card' },
      trigger_id: `trigger-click-${n}`,
      api_app_id: 'A1',
      token: 'legacy',
      response_url: `${bot.slackApi.url}/response/click-${n}`,
      actions: [
        {
          action_id: actionId,
          block_id: `card:${featureId}`,
          value: featureId,
          type: 'button',
          action_ts: '1793491300.000001',
          text: { type: 'plain_text', text: actionId },
        },
      ],
    });
    expect(res.status).toBe(200);
    return bot.slackApi.waitFor(() => bot.slackApi.responses.find((r) => r.id === `click-${n}`));
  }

  it('"Check now" measures and posts in the thread; "Mark launched" launches; both answer the clicker', async () => {
    await bot.slack.command('propose Bulk export expect bulk_export_total >= 200 per week within 30 days');
    await bot.slackApi.waitFor(() => bot.slackApi.responses[0]);
    const card = bot.slackApi.callsTo('chat.postMessage')[0]!;
    expect(texts(card.body.blocks)).toContain('check_now');
    const cardTs = (await bot.donedone.store.get('T1', 'F-1'))!.cardTs!;
    expect(cardTs).toMatch(/^\d+\.\d+$/);

    const checked = await clickOnCard('check_now', 'F-1', cardTs, 1);
    expect(String(checked.body.text)).toMatch(/^Checked \*F-1\*: /);
    expect(checked.body.response_type).toBe('ephemeral');
    const inThread = await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.postMessage').find((c) => c.body.thread_ts === cardTs),
    );
    expect(String(inThread.body.text)).toMatch(/^F-1: /);
    expect(await bot.donedone.checks.list('T1', 'F-1')).toHaveLength(1);

    // Launching changes the feature: its owner (U1) clicks.
    const launched = await clickOnCard('mark_launched', 'F-1', cardTs, 2, 'U1');
    expect(String(launched.body.text)).toMatch(/^Launched \*F-1\* on \d{4}-\d{2}-\d{2}\./);
    expect((await bot.donedone.store.get('T1', 'F-1'))?.launchedAt).toBeTruthy();
  });

  it('a button for a feature that is gone, or with a garbled value, answers the clicker and changes nothing', async () => {
    const answer = await clickOnCard('check_now', 'F-404', '1793491200.000009', 3);
    expect(String(answer.body.text)).toContain('There is no feature F-404');
    // A button value that is not a feature id gets the grammar's answer, not silence.
    const garbled = await clickOnCard('mark_launched', 'nonsense', '1793491200.000009', 4);
    expect(String(garbled.body.text)).toContain('nonsense');
    expect(String(garbled.body.text)).toContain('Example:');
    expect(bot.slackApi.callsTo('chat.postMessage')).toHaveLength(0);
  });
});
