import type { DateTime } from 'luxon';
import type { Feature } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { NOW } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';
import { SlackStandIn } from '../support/slack-stand-in';
import { drained, drainedBot, waitFor } from '../support/wait';

/**
 * Posting paced per channel, with two bot processes (two workers) on one Redis and one Slack:
 * results wait in their channel's queue and leave it in order of their due times, each once,
 * one a second, after Slack's Retry-After.
 */
let slackApi: SlackStandIn;
let first: RunningBot;
let second: RunningBot;

afterEach(async () => {
  await second?.stop({ keepData: true });
  await first?.stop();
  await slackApi?.stop();
});

const EXPECTATION = 'bulk_export_total >= 200 per week within 30 days';
const CHANNELS = ['CPACEONE', 'CPACETWO'] as const;

/**
 * Twelve features, launched eight days before NOW at different minutes, so each one's first
 * weekly check (a week after its launch) is due at its own time; two channels.
 */
function plan(): { n: number; channel: string; launchedAt: DateTime }[] {
  return Array.from({ length: 12 }, (_, n) => ({
    n,
    channel: CHANNELS[n % 3 === 0 ? 1 : 0],
    // A shuffle of 0..11 (5 is prime to 12): launch order differs from the order they are made in.
    launchedAt: NOW.minus({ days: 8 }).plus({ minutes: 10 * ((n * 5) % 12) }),
  }));
}

async function seed(bot: RunningBot): Promise<Feature[]> {
  const parsed = parseExpectation(EXPECTATION);
  if (!parsed.ok) throw new Error(parsed.error);
  const features: Feature[] = [];
  for (const p of plan()) {
    features.push(
      await bot.donedone.store.create('T1', (id) => ({
        title: `Paced ${id}`,
        ownerId: 'UOWNER',
        proposedBy: 'UOWNER',
        status: 'launched' as const,
        createdAt: NOW.minus({ days: 20 }).toISO()!,
        channel: p.channel,
        cardTs: `1790000000.${String(p.n).padStart(6, '0')}`,
        expectation: parsed.value,
        instrumented: 'yes' as const,
        launchedAt: p.launchedAt.toISO()!,
        // In use since launch: the catch-up's check judges the rate, no first-use search.
        firstUseAt: p.launchedAt.toISO()!,
      })),
    );
  }
  return features;
}

it('two workers on one Redis post each channel’s results once, in order of due time, one a second, after Retry-After', async () => {
  slackApi = new SlackStandIn();
  await slackApi.start();
  first = await startBot({ slackApi });
  second = await startBot({ slackApi, prefix: first.prefix });
  const features = await seed(first);
  // Slack holds every post back (429, Retry-After 1 s) until all results are measured and queued,
  // so the order they leave in is the pacer's, not the order the checks happened to finish in.
  slackApi.fail('chat.postMessage', { status: 429, retryAfter: 1, times: 100_000 });
  // The real scheduling path: a catch-up job each, queued from both processes in turn.
  await Promise.all(features.map((f, i) => (i % 2 ? second : first).donedone.watch.schedule(f)));
  await drained(first.donedone.queue);
  await waitFor(async () => {
    const stored = await Promise.all(features.map((f) => first.donedone.checks.list('T1', f.id)));
    return stored.every((c) => c.length === 1);
  });
  slackApi.fail('chat.postMessage', { status: 429, times: 0 });

  const checkPost = (f: Feature) => (c: { method: string; body: Record<string, unknown> }) =>
    c.method === 'chat.postMessage' &&
    c.body.thread_ts === f.cardTs &&
    String(c.body.text).startsWith(`${f.id}:`);
  await slackApi.waitFor(() => features.every((f) => slackApi.calls.some(checkPost(f))), 60_000);
  await drainedBot(first.donedone);
  await drainedBot(second.donedone);

  // Once each, across both processes.
  for (const f of features) expect(slackApi.calls.filter(checkPost(f))).toHaveLength(1);
  for (const channel of CHANNELS) {
    const mine = features.filter((f) => f.channel === channel);
    // Due times follow from the launches: a week after each.
    const expected = [...mine]
      .sort((a, b) => Date.parse(a.launchedAt!) - Date.parse(b.launchedAt!))
      .map((f) => f.id);
    const posts = slackApi.calls.filter((c) => mine.some((f) => checkPost(f)(c)));
    expect(posts.map((c) => String(c.body.text).split(':')[0])).toEqual(expected);
    // One a second: no two posts to the channel within a second of each other.
    for (let i = 1; i < posts.length; i++)
      expect(posts[i]!.at! - posts[i - 1]!.at!).toBeGreaterThanOrEqual(1000);
    // Slack's Retry-After: the first post came at least a second after the last refusal in the channel.
    const lastRefusal = Math.max(
      ...slackApi.refused
        .filter((r) => r.method === 'chat.postMessage' && r.body.channel === channel)
        .map((r) => r.at),
    );
    expect(posts[0]!.at! - lastRefusal).toBeGreaterThanOrEqual(1000);
  }
}, 120_000);
