/**
 * The verdict rules of PRODUCT.md ("Verdicts, precisely") through Slack's wire format, against the
 * real Prometheus loaded with test/fixtures/history.ts. Every expected number is derived from
 * the fixture's generators (rates per hour × hours), never copied from the bot's output.
 */
import { DateTime } from 'luxon';
import { PrometheusClient } from '../../src/telemetry/prometheus-client';
import {
  ERROR_RATIO,
  FRESH_FROM,
  FRESH_PER_HOUR,
  NOW,
  RESET_PER_HOUR,
  SIGNUPS_FROM,
  SIGNUPS_PER_HOUR,
  STEADY_FROM,
  STEADY_PER_HOUR,
} from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { proposedOn } from '../support/proposed-on';
import { drained as drainedQueue, waitFor } from '../support/wait';

let bot: RunningBot;
afterEach(async () => {
  await bot?.stop();
});

const drained = () => drainedQueue(bot.donedone.queue);

async function ask(text: string, user = 'U1'): Promise<string> {
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(text, user);
  if (body) return String(JSON.parse(body).text);
  const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
  return String(reply.body.text);
}

async function propose(text: string): Promise<string> {
  await ask(`propose ${text}`);
  // Launched on past dates below: proposed before them (a launch before the proposal is refused).
  await proposedOn(bot);
  const features = await bot.donedone.store.list('T1');
  return features[features.length - 1]!.id;
}

async function feature(id: string) {
  return (await bot.donedone.store.get('T1', id))!;
}

function thread(ts: string): string[] {
  return bot.slackApi
    .callsTo('chat.postMessage')
    .filter((c) => c.body.thread_ts === ts)
    .map((c) => String(c.body.text));
}

function dmsTo(user: string): string[] {
  return bot.slackApi
    .callsTo('chat.postMessage')
    .filter((c) => c.body.channel === user)
    .map((c) => String(c.body.text));
}

const weekOf = (perHour: number) => perHour * 24 * 7;

describe('judging the rate since first use', () => {
  beforeEach(async () => {
    bot = await startBot();
  });

  it('a steady rate below the target is at risk, not projected from the ramp, and the owner is told', async () => {
    // Launched 12 Oct, used from 14 Oct at 1 an hour: 168 a week against 500.
    const id = await propose('Steady export expect steady_export_total >= 500 per week within 30 days');
    await ask(`launch ${id} 2026-10-12`);
    await waitFor(async () => (await bot.donedone.checks.list('T1', id)).length >= 2);
    await drained();
    const f = await feature(id);
    expect(f.firstUseAt).toBe(STEADY_FROM.toISO());
    const answer = await ask(`check ${id}`);
    expect(answer).toBe(
      `Checked *${id}*: at risk (${weekOf(STEADY_PER_HOUR)}). The result is in its thread.`,
    );
    const checks = await bot.donedone.checks.list('T1', id);
    const manual = checks.find((c) => c.kind === 'manual')!;
    // Whole windows after first use: 26 Oct and now, both 168: the line through them stays at 168.
    expect(manual).toMatchObject({ value: 168, verdict: 'at risk', projected: 168 });
    expect(manual.expectation).toBe('steady_export_total >= 500 per week within 30 days');
    // The 26 Oct weekly check was at risk too: one DM to the owner.
    await drained();
    expect(dmsTo('U1').filter((t) => t.includes('at risk'))).toHaveLength(1);
  });

  it('a month window not yet full since first use is scaled: on pace is on track, off pace at risk', async () => {
    // Used from 22 Oct at 4 an hour: after 10 days 960, i.e. 960 × 30/10 = 2,880 for the month.
    const used = SIGNUPS_PER_HOUR * 24 * NOW.diff(SIGNUPS_FROM, 'days').days;
    const scaled = (used * 30) / NOW.diff(SIGNUPS_FROM, 'days').days;
    const onPace = await propose('Signups expect monthly_signup_total >= 2500 per month within 30 days');
    const offPace = await propose(
      'More signups expect monthly_signup_total >= 3000 per month within 30 days',
    );
    for (const id of [onPace, offPace]) await ask(`launch ${id} 2026-10-22`);
    await waitFor(async () => (await bot.donedone.checks.list('T1', offPace)).length >= 1);
    await drained();
    expect(await ask(`check ${onPace}`)).toContain(`on track (${used.toLocaleString('en-US')})`);
    expect(await ask(`check ${offPace}`)).toContain(`at risk (${used.toLocaleString('en-US')})`);
    const [a, b] = await Promise.all(
      [onPace, offPace].map(async (id) =>
        (await bot.donedone.checks.list('T1', id)).find((c) => c.kind === 'manual'),
      ),
    );
    expect(a!.projected).toBeCloseTo(scaled, 6);
    expect(b!.projected).toBeCloseTo(scaled, 6);
  });

  it('three days of use below the target is too early: posted, no DM', async () => {
    // Launched 24 Oct, used from 29 Oct: the weekly check of 31 Oct sees 2 days of use.
    const id = await propose('Fresh expect fresh_feature_total >= 200 per week within 30 days');
    await ask(`launch ${id} 2026-10-24`);
    await waitFor(async () => (await bot.donedone.checks.list('T1', id)).length >= 1);
    await drained();
    const weekly = (await bot.donedone.checks.list('T1', id))[0]!;
    expect(weekly).toMatchObject({ verdict: 'too early', value: FRESH_PER_HOUR * 24 * 2 });
    const ts = (await feature(id)).cardTs!;
    await bot.slackApi.waitFor(() => thread(ts).find((t) => t.startsWith(`${id}: too early`)));
    await drained();
    expect(dmsTo('U1')).toEqual([]);
    expect((await feature(id)).firstUseAt).toBe(FRESH_FROM.toISO());
  });

  it('a metric in use before launch announces no done-done and says so', async () => {
    const id = await propose('Bulk export again expect bulk_export_total >= 200 per week within 30 days');
    await ask(`launch ${id} 2026-10-10`);
    const ts = (await feature(id)).cardTs!;
    await bot.slackApi.waitFor(() =>
      thread(ts).find((t) =>
        t.includes('already in use before launch: choose a metric that only this feature moves'),
      ),
    );
    await drained();
    const f = await feature(id);
    expect(f.usedBeforeLaunch).toBe(true);
    expect(f.firstUseAt).toBeUndefined();
    expect(thread(ts).some((t) => t.includes('done-done'))).toBe(false);
    expect(await ask(`show ${id}`)).toBeDefined();
  });

  it('a counter reset inside the window counts every increase', async () => {
    // 2 an hour for the week before 1 Nov, across a restart on 28 Oct: 336, met against 300.
    const id = await propose('Resets expect reset_total >= 300 per week within 7 days');
    await ask(`launch ${id} 2026-10-25`);
    await waitFor(async () => (await feature(id)).status === 'met');
    const final = (await bot.donedone.checks.list('T1', id)).find((c) => c.kind === 'final')!;
    expect(final.value).toBe(weekOf(RESET_PER_HOUR));
  });

  it('a gauge is averaged and a percentage target compares a ratio', async () => {
    const ratio = await propose('Fewer errors expect error_ratio < 2% per day within 7 days');
    await ask(`launch ${ratio} 2026-10-25`);
    await waitFor(async () => (await feature(ratio)).status === 'met');
    const final = (await bot.donedone.checks.list('T1', ratio)).find((c) => c.kind === 'final')!;
    expect(final.value).toBeCloseTo(ERROR_RATIO, 10);
    expect(final.query).toBe('avg(avg_over_time(error_ratio[1d]))');
  });
});

describe('no verdict lost to an outage', () => {
  /** The real Prometheus behind a switch: while `down`, every call fails as a network error would. */
  function flakyPrometheus(): { source: PrometheusClient; state: { down: boolean } } {
    const state = { down: true };
    const source = new PrometheusClient({
      baseUrl: process.env.TEST_PROMETHEUS_URL!,
      fetch: (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        if (state.down) throw new TypeError('fetch failed');
        return fetch(input, init);
      }) as typeof fetch,
    });
    return { source, state };
  }

  it('pending at the deadline, then met by the delayed retry once the telemetry answers; the retro opens then', async () => {
    const { source, state } = flakyPrometheus();
    bot = await startBot({ telemetrySources: [source], queue: { attempts: 2, backoffMs: 400 } });
    const id = await propose('Bulk export expect bulk_export_total >= 200 per week within 30 days');
    await ask(`launch ${id} 2026-10-01`);
    await waitFor(async () => (await feature(id)).verdictPending !== undefined);
    const ts = (await feature(id)).cardTs!;
    await bot.slackApi.waitFor(() => thread(ts).find((t) => t.startsWith(`${id}: verdict pending`)));
    expect((await feature(id)).status).not.toBe('missed');
    // No retro while the verdict is unknown.
    expect(
      bot.slackApi.callsTo('chat.postMessage').filter((c) => String(c.body.text).includes('retro')),
    ).toEqual([]);
    state.down = false;
    await waitFor(async () => (await feature(id)).status === 'met');
    const f = await feature(id);
    expect(f.verdictPending).toBeUndefined();
    const final = (await bot.donedone.checks.list('T1', id)).filter((c) => c.kind === 'final');
    expect(final).toHaveLength(1);
    expect(final[0]).toMatchObject({ verdict: 'met', value: 336 });
    await waitFor(async () => (await feature(id)).retro !== undefined);
    await drained();
    expect(thread(ts).filter((t) => t.startsWith(`${id}: met`))).toHaveLength(1);
  });

  it('dropping a feature whose verdict is pending removes its delayed retry', async () => {
    const { source } = flakyPrometheus();
    bot = await startBot({ telemetrySources: [source], queue: { attempts: 1, backoffMs: 3_600_000 } });
    const id = await propose('Dark mode expect dark_mode_toggles_total >= 200 per week within 30 days');
    await ask(`launch ${id} 2026-10-01`);
    await waitFor(async () => (await feature(id)).verdictPending?.retry === 1);
    const retries = async () =>
      (await bot.donedone.queue.getDelayed()).filter((j) => String(j.id).includes('__retry'));
    expect(await retries()).toHaveLength(1);
    expect(await ask(`drop ${id}`)).toContain(`Dropped *${id}*`);
    expect(await retries()).toEqual([]);
  });

  it('`check` after the deadline settles a pending verdict', async () => {
    const { source, state } = flakyPrometheus();
    // A long back-off: the delayed retry will not come during the test, only `check` can settle it.
    bot = await startBot({ telemetrySources: [source], queue: { attempts: 1, backoffMs: 3_600_000 } });
    const id = await propose('Dark mode expect dark_mode_toggles_total >= 200 per week within 30 days');
    await ask(`launch ${id} 2026-10-01`);
    await waitFor(async () => (await feature(id)).verdictPending !== undefined);
    expect(await ask(`check ${id}`)).toContain('unknown');
    expect((await feature(id)).verdictPending).toBeDefined();
    state.down = false;
    // 1 toggle every 3 hours: 56 a week against 200.
    // Someone else checks (one person checks a feature at most once a minute).
    expect(await ask(`check ${id}`, 'U2')).toBe(`Checked *${id}*: missed (56). The result is in its thread.`);
    const f = await feature(id);
    expect(f.status).toBe('missed');
    expect(f.verdictPending).toBeUndefined();
    const final = (await bot.donedone.checks.list('T1', id)).filter((c) => c.kind === 'final');
    expect(final.map((c) => [c.at, c.verdict])).toEqual([['2026-10-31T00:00:00.000Z', 'missed']]);
  });
});

describe('the workspace zone', () => {
  it('a launch at 23:30 in Europe/Berlin: launch day, weekly checks and deadline in Berlin time', async () => {
    const at = DateTime.fromISO('2026-10-20T23:30:00', { zone: 'Europe/Berlin' });
    bot = await startBot({ env: { DONEDONE_TIMEZONE: 'Europe/Berlin' }, now: at.toUTC() });
    const id = await propose('Night launch expect steady_export_total >= 1 per week within 30 days');
    expect(await ask(`launch ${id}`)).toContain('2026-10-20');
    const f = await feature(id);
    expect(f.launchedAt).toBe('2026-10-20T21:30:00.000Z');
    const ts = f.cardTs!;
    await bot.slackApi.waitFor(() => thread(ts).find((t) => t === `${id} launched on 2026-10-20`));
    await waitFor(async () => (await bot.donedone.queue.getDelayed()).some((j) => j.name === 'check'));
    const planned = (await bot.donedone.queue.getDelayed())
      .filter((j) => j.name === 'check')
      .map((j) => String((j.data as { at: string }).at))
      .sort();
    // Summer time ends on 25 Oct: 23:30 stays 23:30 in Berlin, 22:30 UTC from then on.
    expect(planned[0]).toBe('2026-10-27T22:30:00.000Z');
    expect(planned[planned.length - 1]).toBe('2026-11-19T22:30:00.000Z');
    const card = bot.slackApi.callsTo('chat.update').at(-1)!;
    expect(JSON.stringify(card.body.blocks)).toContain('*Deadline* 2026-11-19');
  });
});
