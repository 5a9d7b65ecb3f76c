import { DateTime, type Duration } from 'luxon';
import { REPORT_MONTHS } from '../fixtures/history';
import { type RunningBot, startBot } from '../support/bot';

let bot: RunningBot;

beforeEach(async () => {
  bot = await startBot();
});

afterEach(async () => {
  await bot.stop();
});

/** Sends a command and returns the ephemeral answer it got (through the response URL). */
async function ask(text: string, user = 'U1'): Promise<{ text: string; blocks: unknown[] }> {
  const before = bot.slackApi.responses.length;
  const { body } = await bot.slack.command(text, user);
  if (body) return { text: body, blocks: [] };
  await bot.slackApi.waitFor(() => bot.slackApi.responses.length > before, 15_000);
  const answer = bot.slackApi.responses[before]!.body;
  return { text: String(answer.text), blocks: (answer.blocks as unknown[]) ?? [] };
}

async function propose(text: string): Promise<string> {
  await ask(`propose ${text}`);
  const features = await bot.donedone.store.list('T1');
  return features[features.length - 1]!.id;
}

describe('/donedone usage', () => {
  it('counts the months the metric was above zero over known history in Prometheus', async () => {
    const id = await propose('Reports expect reports_viewed_total{app="web"} >= 1 per month within 30 days');
    const answer = await ask(`usage ${id}`);
    // NOW is 2026-11-01: the last 12 months are Dec 2025 … Nov 2026 (so far), and reports were viewed in
    // Jan, Mar, Jun and Oct 2026.
    expect(REPORT_MONTHS).toEqual(['2026-01', '2026-03', '2026-06', '2026-10']);
    expect(answer.text).toBe(`${id} Reports: used in 4 of the last 12 months`);
    const shown = JSON.stringify(answer.blocks);
    // Dec J F M A M J J A S O N: used in Jan, Mar, Jun, Oct; November has not started yet (no data).
    expect(shown).toContain('▁█▁█▁▁█▁▁▁█░');
    expect(shown).toContain('DJFMAMJJASON');
    expect(shown).toContain('Dec 2025 to Nov 2026');
  });

  it('asks a month for the sum of its increase over its exact length, not 30 days', async () => {
    const service = (await import('../../src/usecases/usage-service')).UsageService;
    const calls: { window: number; at: string }[] = [];
    const telemetry = bot.donedone.telemetry;
    const feature = (await bot.donedone.store.get(
      'T1',
      await propose('Reports expect reports_viewed_total >= 1'),
    ))!;
    const spy = jest
      .spyOn(telemetry, 'valueOver')
      .mockImplementation(async (_m, window: Duration, at: DateTime) => {
        calls.push({ window: window.as('days'), at: at.toUTC().toISO()! });
        return { value: 0, query: '' };
      });
    const usage = new service({ telemetry });
    const result = await usage.monthsUsedFor(
      feature,
      DateTime.fromISO('2026-03-15T00:00:00Z', { zone: 'utc' }),
    );
    spy.mockRestore();
    expect(result.ok && result.value.text).toBe('used in 0 of the last 12 months');
    // February 2026 has 28 days and is measured at its end; March so far is 14 days.
    expect(calls).toContainEqual({ window: 28, at: '2026-03-01T00:00:00.000Z' });
    expect(calls).toContainEqual({ window: 31, at: '2026-02-01T00:00:00.000Z' });
    expect(calls).toContainEqual({ window: 14, at: '2026-03-15T00:00:00.000Z' });
    expect(calls).toHaveLength(12);
  });

  it('names what is wrong for a feature without an expectation or an unknown id', async () => {
    const id = await propose('Dark mode');
    expect((await ask(`usage ${id}`)).text).toContain(`${id} has no expectation yet`);
    expect((await ask('usage F-99')).text).toContain('There is no feature F-99');
  });
});
