import { type RunningBot, startBot } from '../support/bot';
import { proposedOn } from '../support/proposed-on';
import { type StandIn, startStandIn } from '../support/vendor-stand-ins';

const API_TOKEN = 'test-api-token-0123456789abcdef';
const GRAFANA_TOKEN = 'glsa_e2e-test-token';
let bot: RunningBot;
let grafana: StandIn;

beforeEach(async () => {
  grafana = await startStandIn(() => ({ status: 200, json: { id: 1, message: 'Annotation added' } }));
  bot = await startBot({
    env: { DONEDONE_API_TOKEN: API_TOKEN, GRAFANA_URL: grafana.url, GRAFANA_TOKEN },
  });
});
afterEach(async () => {
  await bot.stop();
  await grafana.close();
});

async function propose(text: string): Promise<string> {
  const before = bot.slackApi.responses.length;
  await bot.slack.command(`propose ${text}`);
  await bot.slackApi.waitFor(() => bot.slackApi.responses.length > before);
  // Launched on past dates below: proposed before them (a launch before the proposal is refused).
  await proposedOn(bot);
  const features = await bot.donedone.store.list('T1');
  return features[features.length - 1]!.id;
}

function launchOverApi(id: string, at: string): Promise<Response> {
  return fetch(`${bot.url}/api/features/${id}/launch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ at }),
  });
}

it('a launch over the API answers at once while Grafana hangs, and the annotation still goes out', async () => {
  grafana.answer(() => ({ hang: true }));
  const id = await propose('Bulk export expect bulk_export_total >= 200 per week within 30 days');
  const started = Date.now();
  const res = await launchOverApi(id, '2026-10-20');
  const took = Date.now() - started;
  expect(res.status).toBe(200);
  // The annotator's time-out is 5 s: the launch did not wait for it.
  expect(took).toBeLessThan(2000);
  await bot.slackApi.waitFor(() => grafana.requests.length > 0);
  const req = grafana.requests[0]!;
  expect(req.path).toBe('/api/annotations');
  expect(req.headers.authorization).toBe(`Bearer ${GRAFANA_TOKEN}`);
  expect(req.body).toMatchObject({
    time: Date.parse('2026-10-20T00:00:00Z'),
    tags: ['donedone', id, 'launch'],
  });
});

it('a launch in the past is annotated once, then its final verdict, whatever Grafana answers', async () => {
  grafana.answer(() => ({ status: 500, json: { message: 'internal error' } }));
  const id = await propose('Bulk export expect bulk_export_total >= 200 per week within 30 days');
  expect((await launchOverApi(id, '2026-10-01')).status).toBe(200);
  // The same launch again changes nothing, so it is not annotated twice.
  const again = await launchOverApi(id, '2026-10-01');
  expect(((await again.json()) as { data: { changed: boolean } }).data.changed).toBe(false);

  await bot.slackApi.waitFor(() =>
    grafana.requests.some((r) => (r.body as { tags: string[] }).tags[2] === 'verdict'),
  );
  const feature = (await bot.donedone.store.get('T1', id))!;
  const final = (await bot.donedone.checks.list('T1', id)).find((c) => c.kind === 'final')!;
  expect(feature.status).toBe(final.verdict);
  const bodies = grafana.requests.map((r) => r.body as { time: number; tags: string[]; text: string });
  expect(bodies.filter((b) => b.tags[2] === 'launch')).toEqual([
    expect.objectContaining({ time: Date.parse('2026-10-01T00:00:00Z'), tags: ['donedone', id, 'launch'] }),
  ]);
  expect(bodies.filter((b) => b.tags[2] === 'verdict')).toEqual([
    {
      time: Date.parse(final.at),
      tags: ['donedone', id, 'verdict'],
      text: `${id} ${final.verdict}: Bulk export, actual ${final.value} against ${feature.expectation!.text}`,
    },
  ]);
});
