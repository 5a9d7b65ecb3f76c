import { DateTime } from 'luxon';
import type { Feature, Retro } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import {
  flagRemovalMessage,
  reminderDm,
  retroMessage,
  retroViewOf,
} from '../../src/slack/blocks/retro-blocks';
import { retroChartSpec } from '../../src/usecases/retro-service';

function expectation(text: string) {
  const r = parseExpectation(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const retro: Retro = {
  channel: 'C1',
  ts: '1793491200.000009',
  openedAt: '2026-10-31T00:00:00.000Z',
  cycle: 1,
  launchedAt: '2026-10-01T00:00:00.000Z',
  actual: { value: 336, verdict: 'met', at: '2026-10-31T00:00:00.000Z' },
  monthsUsed: { count: 2, strip: '░░░░░░░░░░██', initials: 'DJFMAMJJASON' },
};

const feature: Feature = {
  id: 'F-1',
  team: 'T1',
  title: 'Bulk export <script> & co',
  hypothesis: 'Finance teams export every week',
  ownerId: 'U1',
  proposedBy: 'U1',
  status: 'met',
  createdAt: '2026-09-01T09:00:00.000Z',
  channel: 'C1',
  cardTs: '1.000001',
  expectation: expectation('bulk_export_total >= 200 per week within 30 days'),
  launchedAt: '2026-10-01T00:00:00.000Z',
  firstUseAt: '2026-10-05T11:00:00.000Z',
  lastVerdict: 'met',
  retro,
};

function assertLimits(blocks: unknown[]) {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks as { text?: { text: string }; fields?: { text: string }[] }[]) {
    if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
    for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
  }
}

function allText(blocks: unknown[]): string {
  return JSON.stringify(blocks);
}

describe('retro message', () => {
  it('shows hypothesis, expected vs actual, verdict, first use, months used and the three buttons (snapshot)', () => {
    const m = retroMessage(retroViewOf(feature)!);
    expect(m).toMatchSnapshot();
    assertLimits(m.blocks);
    const text = allText(m.blocks);
    expect(text).toContain('Bulk export &lt;script&gt; &amp; co');
    expect(text).toContain('Finance teams export every week');
    expect(text).toContain('&gt;= 200 per week');
    expect(text).toContain('336 in the week to 2026-10-31 00:00 UTC');
    expect(text).toContain(':white_check_mark: *met*');
    expect(text).toContain('2026-10-05 (4 days after launch)');
    expect(text).toContain('2026-10-01 → 2026-10-31');
    expect(text).toContain('used in 2 of the last 12 months');
    const actions = m.blocks.find((b) => b.type === 'actions') as {
      elements: { action_id: string; value: string }[];
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['retro_keep', 'retro_iterate', 'retro_remove']);
    expect(actions.elements.every((e) => e.value === 'F-1')).toBe(true);
    expect(m.text).toBe(
      // The fallback text is mrkdwn: the title is escaped there too, so `<script>` is shown as typed.
      'Retrospective F-1 · Bulk export &lt;script&gt; &amp; co: met. Expected >= 200 per week, actual 336. Keep, iterate or remove?',
    );
  });

  it('shows a decision, who took it and when, and a change of mind (snapshot)', () => {
    const decided: Feature = {
      ...feature,
      status: 'decided',
      decision: { value: 'remove', by: 'U1', at: '2026-11-02T14:05:00.000Z' },
      retro: { ...retro, previousDecision: { value: 'keep', by: 'U2', at: '2026-11-01T10:00:00.000Z' } },
    };
    const m = retroMessage(retroViewOf(decided)!);
    expect(m).toMatchSnapshot();
    expect(allText(m.blocks)).toContain(
      ':wastebasket: *Decision: remove* (changed from keep) by <@U1> on 2026-11-02 14:05 UTC',
    );
    expect(m.text).toContain('Decision: remove by <@U1>.');
    // The owner can still change it: the buttons stay, the chosen one highlighted.
    const actions = m.blocks.find((b) => b.type === 'actions') as {
      elements: { action_id: string; style?: string }[];
    };
    expect(actions.elements.find((e) => e.action_id === 'retro_remove')?.style).toBe('primary');
  });

  it('an iterated cycle, found by its message ts in history, has no buttons', () => {
    const { retro: _r, decision: _d, launchedAt: _l, firstUseAt: _f, ...rest } = feature;
    const iterated: Feature = {
      ...rest,
      status: 'measurable',
      history: [
        {
          expectation: feature.expectation!,
          launchedAt: feature.launchedAt!,
          verdict: 'met',
          decision: { value: 'iterate', by: 'U1', at: '2026-11-02T14:05:00.000Z' },
          retro,
        },
      ],
    };
    expect(retroViewOf(iterated)?.superseded).toBe(true);
    const view = retroViewOf(iterated, retro.ts)!;
    const m = retroMessage(view);
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allText(m.blocks)).toContain(':repeat: *Decision: iterate* by <@U1>');
    expect(allText(m.blocks)).toContain('not seen in the 30 days since launch');
    expect(retroViewOf(iterated, 'other-ts')).toBeNull();
  });

  it('says when months used or data are unknown, and stays within the limits with long text', () => {
    const { monthsUsed: _m, ...noMonths } = retro;
    const m = retroMessage(
      retroViewOf({
        ...feature,
        title: 'x'.repeat(150),
        hypothesis: 'y'.repeat(5000),
        retro: { ...noMonths, actual: { value: null, verdict: 'no data', at: retro.openedAt } },
      })!,
    );
    assertLimits(m.blocks);
    expect(allText(m.blocks)).toContain('unknown: the telemetry could not say');
    expect(allText(m.blocks)).toContain('no data in the week');
  });

  it('asks for the flag to go after keep or remove, and reminds the owner with a link', () => {
    const view = retroViewOf({ ...feature, flag: { key: 'bulk-export-v2', since: '2026-05-01' } })!;
    expect(flagRemovalMessage(view, 'keep').text).toContain(
      'Remove the flag and keep the code path it guards',
    );
    expect(flagRemovalMessage(view, 'remove').text).toContain('turn the feature flag `bulk-export-v2` off');
    expect(reminderDm(view, 'https://acme.slack.com/archives/C1/p1').text).toContain(
      '<https://acme.slack.com/archives/C1/p1|its retro thread>',
    );
  });
});

describe('retro chart spec', () => {
  it('draws the target as a line, marks launch and deadline, and names the unit', () => {
    const points = [{ at: DateTime.fromISO('2026-10-08T00:00:00Z', { zone: 'utc' }), value: 300 }];
    const spec = retroChartSpec({ ...feature, expectation: feature.expectation! }, retro, points);
    expect(spec.unit).toBe('bulk_export_total / week');
    expect(spec.target).toEqual({ value: 200, label: 'target >= 200' });
    expect(spec.markers?.map((m) => `${m.label} ${m.at.toISODate()}`)).toEqual([
      'launch 2026-10-01',
      'deadline 2026-10-31',
    ]);
    expect((spec.width ?? 0) >= 800 && (spec.height ?? 0) >= 400).toBe(true);
  });

  it('draws a percentage expectation in percent (stored as a ratio)', () => {
    const e = expectation('checkout_conversion >= 12.5% per week within 30 days');
    const points = [{ at: DateTime.fromISO('2026-10-08T00:00:00Z', { zone: 'utc' }), value: 0.1 }];
    const spec = retroChartSpec({ ...feature, expectation: e }, retro, points);
    expect(spec.unit).toBe('%');
    expect(spec.target?.value).toBeCloseTo(12.5);
    expect(spec.series[0]?.points[0]?.value).toBeCloseTo(10);
  });
});
