import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { roundTarget } from '../../src/domain/suggest-metrics';
import { BULK_EXPORT_PER_HOUR, CHECKOUT_NEW_PER_HOUR, DARK_MODE_PER_3_HOURS } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { type RunningPrometheus, startPrometheus, stopPrometheus } from '../support/prometheus';
import { proposedOn } from '../support/proposed-on';

/**
 * Learning from past features, through signed requests into the whole bot: a real Prometheus with
 * the known history (backfilled) and, since backfilled blocks carry no metadata, a tiny exporter it
 * scrapes for the HELP text of the same metric names.
 */

const HELP: Record<string, string> = {
  bulk_export_total: 'Bulk exports completed, by format.',
  bulk_export_bytes_total: 'Bytes written by bulk exports.',
  dark_mode_toggles_total: 'Times the dark mode was switched on or off.',
  checkout_total: 'Checkouts completed.',
};

let exporter: Server;
let prometheus: RunningPrometheus;
let bot: RunningBot;

beforeAll(async () => {
  exporter = createServer((_req, res) => {
    const lines = Object.entries(HELP).flatMap(([name, help]) => [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} counter`,
      // Scraped now, long after the history's clock: it adds metadata, not values at NOW.
      `${name}{app="exporter"} 0`,
    ]);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  const port = (exporter.address() as AddressInfo).port;
  prometheus = await startPrometheus({ scrape: [`127.0.0.1:${port}`] });
  // Wait for the first scrape to bring the metadata in.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${prometheus.url}/api/v1/metadata`);
    const body = (await res.json()) as { data: Record<string, unknown> };
    if (body.data.bulk_export_total) break;
    if (Date.now() > deadline) throw new Error('Prometheus did not scrape the exporter in 30 s');
    await new Promise((r) => setTimeout(r, 250));
  }
});

afterAll(async () => {
  stopPrometheus(prometheus);
  await new Promise((resolve) => exporter.close(resolve));
});

beforeEach(async () => {
  bot = await startBot({ env: { PROMETHEUS_URL: prometheus.url } });
});

afterEach(async () => {
  await bot.stop();
});

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a command and returns the ephemeral answer it got through its response_url. */
async function command(text: string): Promise<{ text: string; blocks: string }> {
  const { body, responseId } = await bot.slack.command(text);
  expect(body).toBe('');
  const reply = await bot.slackApi.waitFor(
    () => bot.slackApi.responses.find((r) => r.id === responseId),
    20_000,
  );
  return { text: String(reply.body.text), blocks: JSON.stringify(reply.body.blocks ?? []) };
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

describe('calibration', () => {
  it('shows an owner setting a fourth expectation how their three judged ones landed, from the history', async () => {
    // Three features launched on 2026-10-01, judged 14 days later (2026-10-15) on a full week of data:
    const judged = [
      // met well above target: 2 exports an hour, 336 a week, against 200.
      {
        title: 'Bulk export v1',
        metric: 'bulk_export_total',
        target: 200,
        weekly: BULK_EXPORT_PER_HOUR * 168,
      },
      // missed at about half: one toggle every 3 hours, 56 a week, against 100.
      {
        title: 'Dark mode',
        metric: 'dark_mode_toggles_total',
        target: 100,
        weekly: DARK_MODE_PER_3_HOURS * 8 * 7,
      },
      // met near target: 10 new checkouts an hour, 1,680 a week, against 1,600.
      {
        title: 'New checkout',
        metric: 'checkout_total{variant="new"}',
        target: 1600,
        weekly: CHECKOUT_NEW_PER_HOUR * 168,
      },
    ];
    for (const [i, f] of judged.entries()) {
      await command(`propose ${f.title} expect ${f.metric} >= ${f.target} per week within 14 days`);
      await proposedOn(bot);
      await command(`launch F-${i + 1} 2026-10-01`);
    }
    const statuses = judged.map((f) => (f.weekly >= f.target ? 'met' : 'missed'));
    expect(statuses).toEqual(['met', 'missed', 'met']);
    await waitFor(async () => {
      const features = await bot.donedone.store.list('T1');
      return statuses.every((s, i) => features[i]?.status === s);
    });

    const shares = judged.map((f) => f.weekly / f.target).sort((a, b) => a - b);
    const met = statuses.filter((s) => s === 'met').length;
    const words = `met ${met} of 3; actuals at a median ${percent(shares[1]!)} of target, ${percent(shares[0]!)}–${percent(shares[2]!)}`;
    // 168%, 56% and 105%: median 105%, range 56%–168%.
    expect(words).toBe('met 2 of 3; actuals at a median 105% of target, 56%–168%');

    await command('propose Bulk export v2');
    const answer = await command('expect F-4 bulk_export_total >= 400 per week within 30 days');
    expect(answer.text).toContain('Recorded for *F-4*');
    expect(answer.text).toContain(`How <@U1>'s judged expectations landed: ${words}.`);
    expect(answer.text).toContain('`/donedone scorecard <@U1>`');

    // The card of F-4 carries the same words while its own expectation waits for a verdict.
    const f4 = (await bot.donedone.store.get('T1', 'F-4'))!;
    const update = await bot.slackApi.waitFor(() =>
      bot.slackApi
        .callsTo('chat.update')
        .filter((c) => c.body.ts === f4.cardTs)
        .find((c) => JSON.stringify(c.body.blocks).includes(words)),
    );
    expect(JSON.stringify(update.body.blocks)).toContain(`Owner's past expectations: ${words}`);

    // The scorecard: the team's and each owner's.
    const card = await command('scorecard');
    expect(card.blocks).toContain(`*Team calibration:* ${words}`);
    expect(card.blocks).toContain(`<@U1>: ${words}`);

    // The expectation form's submission answers with the same words (ephemeral, in the channel).
    const { res } = await bot.slack.interactive({
      type: 'view_submission',
      team: { id: 'T1', domain: 'acme' },
      user: bot.slack.user('U1'),
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: 'trigger-form',
      view: {
        id: 'V1',
        team_id: 'T1',
        type: 'modal',
        callback_id: 'answer_modal',
        private_metadata: JSON.stringify({ channel: 'C1', featureId: 'F-4' }),
        hash: 'h1',
        state: {
          values: {
            metric: { value: { type: 'external_select', selected_option: { value: 'bulk_export_total' } } },
            op: { value: { type: 'static_select', selected_option: { value: '>=' } } },
            target: { value: { type: 'plain_text_input', value: '450' } },
            window: { value: { type: 'static_select', selected_option: { value: 'week' } } },
            deadline: { value: { type: 'number_input', value: '30' } },
            owner: { value: { type: 'users_select', selected_user: 'U1' } },
          },
        },
      },
    });
    expect(res.status).toBe(200);
    const ephemeral = await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.postEphemeral').find((c) => String(c.body.text).includes(words)),
    );
    expect(ephemeral.body).toMatchObject({ channel: 'C1', user: 'U1' });
    expect((await bot.donedone.store.get('T1', 'F-4'))?.expectation?.target).toBe(450);
  });

  it('says how many, without percentages, while fewer than three were judged', async () => {
    await command('propose Bulk export v1 expect bulk_export_total >= 200 per week within 14 days');
    await proposedOn(bot);
    await command('launch F-1 2026-10-01');
    await waitFor(async () => (await bot.donedone.store.get('T1', 'F-1'))?.status === 'met');
    const answer = await command('propose Bulk export v2 expect bulk_export_total >= 400 per week');
    expect(answer.text).toContain('met 1 of 1; only one judged expectation so far, too few for percentages');
    expect(answer.text).not.toMatch(/median/);
  });

  it('shows nothing for an owner with nothing judged', async () => {
    const answer = await command('propose Bulk export expect bulk_export_total >= 200 per week');
    expect(answer.text).toContain('Proposed *F-1*');
    expect(answer.text).not.toContain('judged expectations');
  });
});

describe("the team's calibration in the digest", () => {
  it('comes with the first digest of a calendar month in a channel that has something to show, not the next', async () => {
    const digests = () =>
      bot.slackApi
        .callsTo('chat.postMessage')
        .filter((c) => String(c.body.text).startsWith('donedone digest'));
    const line = "This month's look back: the team's judged expectations met 1 of 1";
    // Nothing judged yet: no line, and the month is not used up by it.
    await command('propose Bulk export v1 expect bulk_export_total >= 200 per week within 14 days');
    await command('digest');
    const before = await bot.slackApi.waitFor(() => digests()[0]);
    expect(JSON.stringify(before.body.blocks)).not.toContain('look back');
    await proposedOn(bot);
    await command('launch F-1 2026-10-01');
    await waitFor(async () => (await bot.donedone.store.get('T1', 'F-1'))?.status === 'met');
    // `digest` is asked at most once per channel per 10 minutes.
    bot.clock.now = bot.clock.now.plus({ minutes: 10 });
    await command('digest');
    const first = await bot.slackApi.waitFor(() => digests()[1]);
    expect(JSON.stringify(first.body.blocks)).toContain(line);
    bot.clock.now = bot.clock.now.plus({ minutes: 10 });
    await command('digest');
    const second = await bot.slackApi.waitFor(() => digests()[2]);
    expect(JSON.stringify(second.body.blocks)).not.toContain(line);
    // A new month (in the workspace's zone, UTC here): the first digest shows it again.
    bot.clock.now = bot.clock.now.plus({ months: 1 });
    await command('digest');
    const third = await bot.slackApi.waitFor(() => digests()[3]);
    expect(JSON.stringify(third.body.blocks)).toContain(line);
  });
});

describe('suggestions', () => {
  it('offers a proposal about bulk exports the bulk export metrics, with HELP text, value and target', async () => {
    const answer = await command('propose Bulk exports for enterprise accounts');
    expect(answer.text).toContain('Proposed *F-1*');
    const blocks = JSON.parse(answer.blocks) as { text?: { text: string }; accessory?: { value: string } }[];
    const suggestions = blocks.filter((b) => b.accessory);
    // bulk_export_total's name is exactly the title's known words; bulk_export_bytes_total has one more word.
    expect(suggestions.map((b) => b.text!.text.split('`')[1])).toEqual([
      'bulk_export_total',
      'bulk_export_bytes_total',
    ]);
    const first = suggestions[0]!.text!.text;
    expect(first).toContain(HELP.bulk_export_total!.replace(/\.$/, ''));
    const weekly = BULK_EXPORT_PER_HOUR * 168;
    expect(first).toContain(`*This week:* ${weekly}`);
    // No past feature: 20% above this week's level, to two significant digits (336 × 1.2 → 400).
    expect(first).toContain(`*Suggested target:* >= ${roundTarget(weekly * 1.2)} per week`);
    // The scraped-only series has no value at the history's clock: "no data yet".
    expect(suggestions[1]!.text!.text).toContain('*This week:* no data yet');
    expect(JSON.parse(suggestions[0]!.accessory!.value)).toEqual({
      f: 'F-1',
      m: 'bulk_export_total',
      o: '>=',
      t: roundTarget(weekly * 1.2),
    });
  });

  it('still answers when the telemetry is down: catalog suggestions without a value', async () => {
    await bot.stop();
    bot = await startBot({
      env: { PROMETHEUS_URL: 'http://127.0.0.1:9' },
      catalog: [
        {
          name: 'bulk_exports',
          description: 'Bulk exports completed (all formats)',
          source: 'prometheus',
          unit: 'exports',
          query: 'sum(increase(bulk_export_total[$window]))',
        },
      ],
    });
    const answer = await command('propose Bulk exports for enterprise accounts');
    expect(answer.text).toContain('Proposed *F-1*');
    const blocks = JSON.parse(answer.blocks) as { text?: { text: string }; accessory?: { value: string } }[];
    const suggestions = blocks.filter((b) => b.accessory);
    expect(suggestions.map((b) => b.text!.text.split('`')[1])).toEqual(['bulk_exports']);
    expect(suggestions[0]!.text!.text).toContain('*This week:* unknown');
    expect(suggestions[0]!.text!.text).toContain('*Suggested target:* none yet');
    expect(answer.blocks).toContain('prometheus could not be listed just now');
  });

  it('offers them after the proposal form too, to the proposer only', async () => {
    const { res } = await bot.slack.interactive({
      type: 'view_submission',
      team: { id: 'T1', domain: 'acme' },
      user: bot.slack.user('U1'),
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: 'trigger-propose',
      view: {
        id: 'V2',
        team_id: 'T1',
        type: 'modal',
        callback_id: 'propose_modal',
        private_metadata: JSON.stringify({ channel: 'C1' }),
        hash: 'h2',
        state: {
          values: {
            title: { value: { type: 'plain_text_input', value: 'Bulk exports' } },
            hypothesis: { value: { type: 'plain_text_input', value: null } },
            metric: { value: { type: 'external_select', selected_option: null } },
            op: { value: { type: 'static_select', selected_option: { value: '>=' } } },
            target: { value: { type: 'plain_text_input', value: null } },
            window: { value: { type: 'static_select', selected_option: { value: 'week' } } },
            deadline: { value: { type: 'number_input', value: '30' } },
            owner: { value: { type: 'users_select', selected_user: 'U1' } },
          },
        },
      },
    });
    expect(res.status).toBe(200);
    const ephemeral = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('chat.postEphemeral')[0]);
    expect(ephemeral.body).toMatchObject({ channel: 'C1', user: 'U1' });
    expect(JSON.stringify(ephemeral.body.blocks)).toContain('`bulk_export_total` · Prometheus');
    expect(await bot.donedone.store.get('T1', 'F-1')).toMatchObject({
      title: 'Bulk exports',
      status: 'proposed',
    });
  });

  it('gives an unrelated title no suggestion, and says so', async () => {
    const answer = await command('propose Quarterly tax filing');
    expect(answer.text).toContain('Proposed *F-1*');
    expect(answer.blocks).toContain('Nothing close to');
    expect(answer.blocks).not.toContain('suggest_use');
  });

  it('answers `suggest F-1`, and "Use this" opens the expectation form filled in', async () => {
    await command('propose Dark mode');
    const answer = await command('suggest F-1');
    const blocks = JSON.parse(answer.blocks) as { text?: { text: string }; accessory?: { value: string } }[];
    const suggestion = blocks.find((b) => b.accessory)!;
    expect(suggestion.text!.text).toContain('`dark_mode_toggles_total`');
    const weekly = DARK_MODE_PER_3_HOURS * 8 * 7;
    expect(suggestion.text!.text).toContain(`*This week:* ${weekly}`);

    const { res } = await bot.slack.interactive({
      type: 'block_actions',
      user: bot.slack.user('U1'),
      team: { id: 'T1', domain: 'acme' },
      channel: { id: 'C1', name: 'planning' },
      container: { type: 'message', message_ts: '1.2', channel_id: 'C1', is_ephemeral: true },
      trigger_id: 'trigger-use',
      api_app_id: 'A1',
      token: 'legacy',
      response_url: `${bot.slackApi.url}/response/use-1`,
      actions: [
        {
          action_id: 'suggest_use',
          block_id: 'x',
          value: suggestion.accessory!.value,
          type: 'button',
          action_ts: '1793491300.000001',
          text: { type: 'plain_text', text: 'Use this' },
        },
      ],
    });
    expect(res.status).toBe(200);
    const open = await bot.slackApi.waitFor(() => bot.slackApi.callsTo('views.open')[0]);
    const view = open.body.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toBe('answer_modal');
    expect(JSON.parse(view.private_metadata)).toMatchObject({ featureId: 'F-1' });
    const json = JSON.stringify(view.blocks);
    expect(json).toContain('"initial_option":{"text":{"type":"plain_text","text":"dark_mode_toggles_total"}');
    expect(json).toContain(`"initial_value":"${roundTarget(weekly * 1.2)}"`);
  });

  it('answers a bad `suggest` with a correct example', async () => {
    const { body } = await bot.slack.command('suggest dark mode');
    expect(JSON.parse(body).text).toContain('`dark` is not a feature id');
    expect(JSON.parse(body).text).toContain('/donedone suggest F-3');
    const missing = await command('suggest F-99');
    expect(missing.text).toContain('There is no feature F-99');
  });
});
