/**
 * Guardrails end to end (PRODUCT.md, "Guardrails and pausing a rollout"): signed requests in, the
 * real Prometheus loaded with test/fixtures/history.ts (a ratio that rises past its limit at a
 * known time and falls back, a latency that stays healthy), vendor-shaped flag stand-ins, and a
 * fake clock stepped round by round. Expected values come from the fixture's constants.
 */
import { DateTime } from 'luxon';
import { formatNumber } from '../../src/domain/format-number';
import { PrometheusClient } from '../../src/telemetry/prometheus-client';
import { guardKey } from '../../src/usecases/guard-service';
import {
  CANARY_ERROR_RATIO,
  GUARD_FALL_AT,
  GUARD_RISE_AT,
  NOW,
  PAYMENT_ERROR_RATIO_BAD,
  PAYMENT_ERROR_RATIO_HEALTHY,
  PEER_ERROR_RATIO,
  SEARCH_LATENCY_SECONDS,
} from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { proposedOn } from '../support/proposed-on';
import { type StandIn, startStandIn } from '../support/vendor-stand-ins';

const API_TOKEN = 'api-token-0123456789abcdef';
const FLAG_TOKEN = 'flag-SECRET-token-42';
const RATIO_GUARD = 'payment_error_ratio < 2% over 30m';
/** As it reads in Slack's text: escaped, so no user text can ping. */
const RATIO_SHOWN = 'payment_error_ratio &lt; 2% over 30m';
const LATENCY_GUARD = 'search_latency_seconds < 0.5 over 30m';

let bot: RunningBot;
let flags: StandIn | undefined;
afterEach(async () => {
  await bot?.stop();
  await flags?.close();
  flags = undefined;
});

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the queue has nothing waiting, active or due within 3 s: a late duplicate would be
 * in it. A job waiting for its channel's posting slot is moved to the delayed set, whose score is
 * its due time × 4096 (BullMQ's getDelayedScore), so that score is what is read.
 */
async function drained(): Promise<void> {
  const queue = bot.donedone.queue;
  const client = bot.donedone.redis;
  // The two reads are not atomic (a job can move from delayed to waiting between them), so the
  // queue must look idle in several polls in a row.
  let idle = 0;
  await waitFor(async () => {
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
    const scores = await client.zrange(queue.keys.delayed!, 0, -1, 'WITHSCORES');
    const dueSoon = scores.filter(
      (v: string, i: number) => i % 2 === 1 && Number(v) / 4096 < Date.now() + 3_000,
    );
    const busy = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0);
    idle = busy === 0 && dueSoon.length === 0 ? idle + 1 : 0;
    return idle >= 4;
  });
}

async function ask(text: string, user = 'U1'): Promise<string> {
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(text, user);
  if (body) return String(JSON.parse(body).text);
  const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses[before]);
  return String(reply.body.text);
}

/** Steps the clock to `iso` and runs that round through the queue. */
async function roundAt(iso: string): Promise<void> {
  bot.clock.now = DateTime.fromISO(iso, { zone: 'utc' });
  await bot.donedone.guards.requestRound();
  await drained();
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

type Block = { type: string; elements?: { action_id: string; value: string }[] };

/** The breach message's blocks, as posted. */
function breachBlocks(ts: string): Block[] {
  const call = bot.slackApi
    .callsTo('chat.postMessage')
    .find((c) => c.body.thread_ts === ts && String(c.body.text).includes('guardrail breached'));
  return (call?.body.blocks ?? []) as Block[];
}

/** The breach message's buttons, as posted. */
function breachButtons(ts: string): { action_id: string; value: string }[] {
  return breachBlocks(ts).find((b) => b.type === 'actions')?.elements ?? [];
}

const BREACH_TS = '1793491200.000009';

async function press(
  action: 'pause' | 'dismiss',
  value: string,
  user: string,
  blocks: unknown[] = [],
): Promise<string> {
  const responseId = `click-${user}-${action}-${Date.now()}`;
  const { res } = await bot.slack.interactive({
    type: 'block_actions',
    user: { id: user, username: user, team_id: 'T1' },
    team: { id: 'T1', domain: 'acme' },
    channel: { id: 'C1', name: 'planning' },
    container: { type: 'message', message_ts: '1793491200.000009', channel_id: 'C1' },
    message: { ts: BREACH_TS, type: 'message', text: 'breach', blocks },
    trigger_id: `trigger-${user}`,
    api_app_id: 'A1',
    token: 'legacy',
    response_url: `${bot.slackApi.url}/response/${responseId}`,
    actions: [
      {
        action_id: `guard_${action}`,
        block_id: 'guard',
        value,
        type: 'button',
        action_ts: '1793491300.000001',
        text: { type: 'plain_text', text: action },
      },
    ],
  });
  expect(res.status).toBe(200);
  const reply = await bot.slackApi.waitFor(() => bot.slackApi.responses.find((r) => r.id === responseId));
  return String(reply.body.text);
}

async function gate(id: string): Promise<{ status: number; data: Record<string, unknown> }> {
  const res = await fetch(`${bot.url}/api/features/${id}/gate`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  return { status: res.status, data: ((await res.json()) as { data: Record<string, unknown> }).data };
}

/** Proposes and launches a guarded feature the day before the rise, with the clock before it. */
async function launchGuarded(extra = ''): Promise<{ id: string; ts: string }> {
  bot.clock.now = GUARD_RISE_AT.minus({ minutes: 30 });
  await ask(
    `propose New checkout expect checkout_total{variant="new"} >= 500 per week within 30 days guard ${RATIO_GUARD} guard ${LATENCY_GUARD}${extra}`,
  );
  const f = (await bot.donedone.store.list('T1'))[0]!;
  expect(f.expectation?.guards?.map((g) => g.text)).toEqual([RATIO_GUARD, LATENCY_GUARD]);
  await proposedOn(bot);
  await ask(`launch ${f.id} 2026-10-30`);
  await drained();
  return { id: f.id, ts: f.cardTs! };
}

const breaches = (ts: string) => thread(ts).filter((t) => t.includes('guardrail breached'));
const recoveries = (ts: string) => thread(ts).filter((t) => t.includes('holds again'));
const at = (minutesAfterRise: number) => GUARD_RISE_AT.plus({ minutes: minutesAfterRise }).toISO()!;

describe('guardrails while a feature rolls out', () => {
  it('a rise seen twice is posted once with Pause and Dismiss and DMed; the gate fails; owner pauses through LaunchDarkly; recovery once', async () => {
    flags = await startStandIn(() => ({
      status: 401,
      json: { code: 'unauthorized', message: 'Invalid token' },
    }));
    bot = await startBot({
      env: {
        DONEDONE_API_TOKEN: API_TOKEN,
        FLAGS_PROVIDER: 'launchdarkly',
        FLAGS_URL: flags.url,
        FLAGS_TOKEN: FLAG_TOKEN,
        FLAGS_PROJECT: 'web',
        FLAGS_ENVIRONMENT: 'production',
      },
    });
    const { id, ts } = await launchGuarded();
    await ask(`flag ${id} new-checkout`);
    // The card lists the guardrails.
    const card = bot.slackApi.callsTo('chat.update').at(-1)!;
    expect(JSON.stringify(card.body.blocks)).toContain(RATIO_GUARD.replace('<', '&lt;'));

    // Before the rise, and the first reading after it: nothing is posted.
    await roundAt(at(-30));
    await roundAt(at(45));
    expect(breaches(ts)).toEqual([]);
    expect((await gate(id)).data.breached).toBeUndefined();

    // The second bad reading in a row: one post in the thread, one DM.
    await roundAt(at(50));
    const expectedValue = formatNumber(PAYMENT_ERROR_RATIO_BAD, '%');
    expect(breaches(ts)).toEqual([`${id}: guardrail breached: ${RATIO_SHOWN} is ${expectedValue}.`]);
    expect(dmsTo('U1').filter((t) => t.includes('breached'))).toHaveLength(1);
    const buttons = breachButtons(ts);
    expect(buttons.map((b) => b.action_id)).toEqual(['guard_pause', 'guard_dismiss']);
    const key = guardKey({ text: RATIO_GUARD });
    expect(buttons[0]!.value).toBe(`${id}|${key}|1`);

    // The gate fails while it is breached: Argo Rollouts aborts.
    const answer = await gate(id);
    expect(answer.status).toBe(200);
    expect(answer.data).toMatchObject({ ok: false, inconclusive: false, breached: [RATIO_GUARD] });

    // Still bad: nothing more is posted.
    await roundAt(at(55));
    await roundAt(at(60));
    expect(breaches(ts)).toHaveLength(1);
    expect(dmsTo('U1').filter((t) => t.includes('breached'))).toHaveLength(1);

    // Someone else presses Pause: told who can, nothing is called or recorded.
    const stranger = await press('pause', buttons[0]!.value, 'U9');
    expect(stranger).toBe(
      `Only ${id}'s owner or proposer (<@U1>) or an admin can pause its rollout. Nothing changed.`,
    );
    expect(flags.requests).toHaveLength(0);

    // The owner presses while LaunchDarkly refuses the token: the reason, to the presser only.
    const refused = await press('pause', buttons[0]!.value, 'U1');
    expect(refused).toBe(
      'Could not turn `new-checkout` off: LaunchDarkly refused the token (HTTP 401 ("Invalid token")): check FLAGS_TOKEN. Nothing was recorded.',
    );
    expect((await bot.donedone.store.get('T1', id))!.pauses).toBeUndefined();

    // And again once it accepts: the flag is turned off in production and the thread says who did.
    flags.answer(() => ({ status: 200, json: { key: 'new-checkout' } }));
    const paused = await press('pause', buttons[0]!.value, 'U1', breachBlocks(ts));
    expect(paused).toBe(
      `Paused ${id}'s rollout. LaunchDarkly turned \`new-checkout\` off in production (HTTP 200).`,
    );
    const call = flags.requests.at(-1)!;
    expect(call).toMatchObject({ method: 'PATCH', path: '/api/v2/flags/web/new-checkout' });
    expect(call.headers.authorization).toBe(FLAG_TOKEN);
    expect(call.headers['content-type']).toBe('application/json; domain-model=launchdarkly.semanticpatch');
    expect(call.body).toMatchObject({
      environmentKey: 'production',
      instructions: [{ kind: 'turnFlagOff' }],
    });
    await bot.slackApi.waitFor(() => thread(ts).find((t) => t.startsWith(`${id}: rollout paused.`)));
    // The breach message loses its buttons and says who paused.
    const update = await bot.slackApi.waitFor(() =>
      bot.slackApi.callsTo('chat.update').find((c) => c.body.ts === BREACH_TS),
    );
    const updated = JSON.stringify(update.body.blocks);
    expect(updated).not.toContain('guard_pause');
    expect(updated).toContain('<@U1> paused the rollout.');
    expect((await bot.donedone.store.get('T1', id))!.pauses).toEqual([
      expect.objectContaining({
        by: 'U1',
        guard: RATIO_GUARD,
        provider: 'launchdarkly',
        flag: 'new-checkout',
        answer: 'HTTP 200',
      }),
    ]);

    // The API lists the guardrails with their state, and the pause.
    const detail = (await (
      await fetch(`${bot.url}/api/features/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
    ).json()) as { data: { guards: unknown[]; pauses: unknown[] } };
    expect(detail.data.guards).toEqual([
      { guard: RATIO_GUARD, autoPause: false, status: 'breached', value: PAYMENT_ERROR_RATIO_BAD },
      { guard: LATENCY_GUARD, autoPause: false, status: 'ok', value: SEARCH_LATENCY_SECONDS },
    ]);
    expect(detail.data.pauses).toHaveLength(1);

    // After the fall, two good readings: recovery is posted once; the gate no longer fails on it.
    const after = GUARD_FALL_AT.diff(GUARD_RISE_AT, 'minutes').minutes;
    await roundAt(at(after + 30));
    expect(recoveries(ts)).toEqual([]);
    await roundAt(at(after + 35));
    await roundAt(at(after + 40));
    expect(recoveries(ts)).toEqual([
      `${id}: guardrail ${RATIO_SHOWN} holds again (${formatNumber(PAYMENT_ERROR_RATIO_HEALTHY, '%')}).`,
    ]);
    expect((await gate(id)).data.breached).toBeUndefined();
    // The healthy latency guard never said anything; no token reached Slack.
    expect(thread(ts).some((t) => t.includes('search_latency_seconds'))).toBe(false);
    expect(JSON.stringify(bot.slackApi.calls)).not.toContain(FLAG_TOKEN);
    expect(JSON.stringify(bot.slackApi.responses)).not.toContain(FLAG_TOKEN);
  });

  it('auto-pause turns the flag off in Unleash at the second breach and says so in the thread', async () => {
    flags = await startStandIn(() => ({ status: 200 }));
    bot = await startBot({
      env: {
        FLAGS_PROVIDER: 'unleash',
        FLAGS_URL: flags.url,
        FLAGS_TOKEN: FLAG_TOKEN,
        FLAGS_PROJECT: 'default',
        FLAGS_ENVIRONMENT: 'production',
      },
    });
    const { id, ts } = await launchGuarded();
    await ask(`flag ${id} new-checkout`);
    // A stranger cannot add guardrails; the owner adds auto-pause to the ratio guard.
    expect(await ask(`guard ${id} ${RATIO_GUARD} auto-pause`, 'U9')).toContain('Nothing changed.');
    expect(await ask(`guard ${id} payment_error_ratio < lots`)).toBe(
      '`lots` is not a number. Write the limit as `0.5`, `1.5k` or `2%`.\nExample: `/donedone guard F-1 checkout_error_ratio &lt; 2% over 3h auto-pause`',
    );
    expect(await ask(`guard ${id} ${RATIO_GUARD} auto-pause`)).toBe(
      `Guardrail added to *${id}*: \`${RATIO_GUARD.replace('<', '&lt;')}\`. It is evaluated every round from now until the deadline. At the second breach in a row the flag \`new-checkout\` is turned off without asking.`,
    );
    await roundAt(at(45));
    expect(flags.requests).toHaveLength(0);
    await roundAt(at(50));
    expect(flags.requests).toHaveLength(1);
    expect(flags.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/admin/projects/default/features/new-checkout/environments/production/off',
    });
    expect(flags.requests[0]!.headers.authorization).toBe(FLAG_TOKEN);
    expect(breaches(ts)).toEqual([
      `${id}: guardrail breached: ${RATIO_SHOWN} is ${formatNumber(PAYMENT_ERROR_RATIO_BAD, '%')}. Auto-pause: Unleash turned \`new-checkout\` off in production (HTTP 200).`,
    ]);
    expect(breachButtons(ts)).toEqual([]);
    expect((await bot.donedone.store.get('T1', id))!.pauses).toEqual([
      expect.objectContaining({ by: 'auto-pause', provider: 'unleash', flag: 'new-checkout' }),
    ]);
    await roundAt(at(55));
    expect(flags.requests).toHaveLength(1);
  });

  it('an outage during evaluation is never a breach and keeps the state; without a flag tool Pause records the decision', async () => {
    const state = { down: false };
    const source = new PrometheusClient({
      baseUrl: process.env.TEST_PROMETHEUS_URL!,
      fetch: (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        if (state.down) throw new TypeError('fetch failed');
        return fetch(input, init);
      }) as typeof fetch,
    });
    bot = await startBot({ telemetrySources: [source], env: { DONEDONE_ADMINS: 'UADMIN' } });
    const { id, ts } = await launchGuarded();
    await roundAt(at(45));
    state.down = true;
    await roundAt(at(50));
    await roundAt(at(55));
    expect(breaches(ts)).toEqual([]);
    // Two rounds of two distinct measurements could not be made: counted as telemetry errors.
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    const errors = Number(/donedone_telemetry_errors_total\{source="prometheus"\} (\d+)/.exec(metrics)?.[1]);
    expect(errors).toBeGreaterThanOrEqual(4);
    state.down = false;
    // The reading before the outage still counts: this one is the second bad one in a row.
    await roundAt(at(60));
    expect(breaches(ts)).toHaveLength(1);
    const [pause] = breachButtons(ts);
    const answer = await press('pause', pause!.value, 'UADMIN');
    expect(answer).toBe(
      `Paused ${id}'s rollout. No flag is linked to ${id}: turn off whatever rolls it out. \`/donedone flag ${id} <flag-key>\` links one for next time.`,
    );
    expect((await bot.donedone.store.get('T1', id))!.pauses).toEqual([
      expect.objectContaining({ by: 'UADMIN', provider: 'none', answer: 'no flag linked' }),
    ]);
    // Dismiss: the gate no longer fails on this breach.
    const dismissed = await press('dismiss', pause!.value, 'U1');
    expect(dismissed).toBe(`Dismissed: the gate no longer fails on \`${RATIO_GUARD.replace('<', '&lt;')}\`.`);
    const f = (await bot.donedone.store.get('T1', id))!;
    expect(await bot.donedone.guards.breachedOf(f)).toEqual([]);
  });

  it('GrowthBook failures (429, 500) are told to the admin who pressed, with the reason', async () => {
    flags = await startStandIn(() => ({
      status: 429,
      headers: { 'retry-after': '20' },
      json: { message: 'Too many requests' },
    }));
    bot = await startBot({
      env: {
        DONEDONE_ADMINS: 'UADMIN',
        FLAGS_PROVIDER: 'growthbook',
        FLAGS_URL: flags.url,
        FLAGS_TOKEN: FLAG_TOKEN,
        FLAGS_ENVIRONMENT: 'production',
      },
    });
    const { id, ts } = await launchGuarded();
    await ask(`flag ${id} new-checkout`);
    await roundAt(at(45));
    await roundAt(at(50));
    const [pause] = breachButtons(ts);
    expect(await press('pause', pause!.value, 'UADMIN')).toBe(
      'Could not turn `new-checkout` off: GrowthBook is rate limiting (HTTP 429 ("Too many requests")): press again in 20 s. Nothing was recorded.',
    );
    flags.answer(() => ({ status: 500, json: { message: 'boom' } }));
    expect(await press('pause', pause!.value, 'UADMIN')).toBe(
      'Could not turn `new-checkout` off: GrowthBook had an error (HTTP 500 ("boom")): press again in a minute. Nothing was recorded.',
    );
    expect(flags.requests.every((r) => r.headers.authorization === `Bearer ${FLAG_TOKEN}`)).toBe(true);
    expect(flags.requests.map((r) => r.path)).toEqual([
      '/api/v1/features/new-checkout/toggle',
      '/api/v1/features/new-checkout/toggle',
    ]);
    expect((await bot.donedone.store.get('T1', id))!.pauses).toBeUndefined();
    expect(JSON.stringify(bot.slackApi.responses)).not.toContain(FLAG_TOKEN);
    // Still breached; after the deadline a stale breach no longer counts, nor after a relaunch.
    const f = (await bot.donedone.store.get('T1', id))!;
    expect(await bot.donedone.guards.breachedOf(f)).toEqual([RATIO_GUARD]);
    const now = bot.clock.now;
    bot.clock.now = DateTime.fromISO(f.launchedAt!, { zone: 'utc' }).plus({ days: 30 });
    expect(await bot.donedone.guards.breachedOf(f)).toEqual([]);
    bot.clock.now = now;
    await ask(`launch ${id} 2026-10-29`);
    expect(await bot.donedone.guards.breachedOf((await bot.donedone.store.get('T1', id))!)).toEqual([]);
  });

  it('the canary takes the guard form across nodes, judged by the same judge: a gauge averaged per node, lower is better', async () => {
    bot = await startBot({ env: { DONEDONE_API_TOKEN: API_TOKEN } });
    const { id, ts } = await launchGuarded();
    bot.clock.now = NOW;
    const answer = await ask(`canary ${id} checkout_error_ratio node=canary lower-is-better`);
    expect(answer).toBe(
      `Attached the canary \`checkout_error_ratio node=canary over 1h lower-is-better\` to *${id}*. Judged: *hold*. The judgement and its chart are in ${id}'s thread.`,
    );
    await bot.slackApi.waitFor(() => thread(ts).find((t) => t.startsWith('Hold: node=canary')));
    const res = await fetch(
      `${bot.url}/api/canary?metric=checkout_error_ratio&label=node&canary=canary&direction=lower`,
      { headers: { authorization: `Bearer ${API_TOKEN}` } },
    );
    const { data } = (await res.json()) as { data: Record<string, unknown> };
    const shift = ((CANARY_ERROR_RATIO - PEER_ERROR_RATIO) / PEER_ERROR_RATIO) * 100;
    expect(data).toMatchObject({
      ok: false,
      verdict: 'hold',
      higher_is_better: false,
      query: 'avg by (node) (avg_over_time(checkout_error_ratio{node!=""}[1m]))',
      canary_median: expect.closeTo(CANARY_ERROR_RATIO, 2),
      baseline_median: expect.closeTo(PEER_ERROR_RATIO, 2),
    });
    // The noise is ±5% of each value: the shift is within 15 points of the fixture's.
    expect(Math.abs((data.difference as number) - shift)).toBeLessThan(15);
  });
});
