import type { Feature } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { NOW } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { SlackStandIn } from '../support/slack-stand-in';
import {
  type PostHogEvent,
  postHogWithEvents,
  type StandIn,
  startStandIn,
} from '../support/vendor-stand-ins';
import { drainedBot, waitFor } from '../support/wait';

/**
 * PostHog-backed checks due at the same time are measured together: one HogQL query grouped by
 * event for all of them, whichever of two bot processes runs which check.
 */
const KEY = 'phx_batchSECRETkey0001';
const FEATURES = 40;
/** Every weekly check falls 3 s after the bot's clock: scheduled as delayed jobs, as in production. */
const LAUNCHED_AT = NOW.minus({ days: 7 }).plus({ seconds: 3 });
const eventOf = (k: number) => `batched event ${k}`;

/** Event k happened k + 1 times in the day before NOW (by k + 1 people), so its week's count is k + 1. */
const EVENTS: PostHogEvent[] = Array.from({ length: FEATURES }, (_, k) =>
  Array.from({ length: k + 1 }, (_, j) => ({
    event: eventOf(k),
    at: NOW.minus({ days: 1, minutes: j }).toMillis(),
    person: `person-${j}`,
  })),
).flat();

let slackApi: SlackStandIn;
let posthog: StandIn;
let first: RunningBot;
let second: RunningBot;

afterEach(async () => {
  await second?.stop({ keepData: true });
  await first?.stop();
  await slackApi?.stop();
  await posthog?.close();
});

it('measures 40 PostHog checks due at one time with one query, across two processes, each value its own', async () => {
  slackApi = new SlackStandIn();
  await slackApi.start();
  posthog = await startStandIn(postHogWithEvents({ apiKey: KEY, projectId: '7', events: EVENTS }));
  const env = { POSTHOG_URL: posthog.url, POSTHOG_API_KEY: KEY, POSTHOG_PROJECT_ID: '7' };
  first = await startBot({ slackApi, env });
  second = await startBot({ slackApi, env, prefix: first.prefix });

  const features: Feature[] = [];
  for (let k = 0; k < FEATURES; k++) {
    const parsed = parseExpectation(`posthog:"${eventOf(k)}" >= 5 per week within 30 days`);
    if (!parsed.ok) throw new Error(parsed.error);
    features.push(
      await first.donedone.store.create('T1', (id) => ({
        title: `Batched ${id}`,
        ownerId: 'UOWNER',
        proposedBy: 'UOWNER',
        status: 'launched' as const,
        createdAt: NOW.minus({ days: 20 }).toISO()!,
        channel: `CBATCH${k % 4}`,
        cardTs: `1790000001.${String(k).padStart(6, '0')}`,
        expectation: parsed.value,
        instrumented: 'yes' as const,
        launchedAt: LAUNCHED_AT.toISO()!,
        firstUseAt: LAUNCHED_AT.toISO()!,
      })),
    );
  }
  // Scheduled from both processes: each launch's checks are planned, the first one due in 3 s.
  await Promise.all(features.map((f, i) => (i % 2 ? second : first).donedone.watch.schedule(f)));
  const weekly = LAUNCHED_AT.plus({ weeks: 1 }).toISO()!;
  await waitFor(async () => {
    const checks = await Promise.all(features.map((f) => first.donedone.checks.list('T1', f.id)));
    return checks.every((list) => list.some((c) => c.at === weekly));
  }, 60_000);
  await drainedBot(first.donedone);
  await drainedBot(second.donedone);

  const queries = posthog.requests.filter((r) => r.method === 'POST' && r.path === '/api/projects/7/query/');
  expect(queries).toHaveLength(1);
  const sent = (queries[0]!.body as { query: { query: string; values: Record<string, string> } }).query;
  expect(sent.query).toContain('GROUP BY event');
  expect(Object.keys(sent.values).filter((v) => /^e\d+$/.test(v))).toHaveLength(FEATURES);
  for (const [k, f] of features.entries()) {
    const check = (await first.donedone.checks.list('T1', f.id)).find((c) => c.at === weekly)!;
    expect(check.value).toBe(k + 1);
    // People see their own event's query, as if it had been measured alone.
    expect(check.query).toContain(`WHERE event = '${eventOf(k)}'`);
  }
  // Each result posted once in its thread.
  for (const f of features) {
    const posts = slackApi
      .callsTo('chat.postMessage')
      .filter((c) => c.body.thread_ts === f.cardTs && String(c.body.text).startsWith(`${f.id}:`));
    expect(posts).toHaveLength(1);
  }
}, 120_000);
