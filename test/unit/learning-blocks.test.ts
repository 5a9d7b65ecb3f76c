import type { Feature } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { scorecard } from '../../src/domain/scorecard';
import { cardMessage } from '../../src/slack/blocks/card-blocks';
import { MAX_MESSAGE_BLOCKS, MAX_MESSAGE_TEXT } from '../../src/slack/blocks/digest-blocks';
import { scorecardBlocks } from '../../src/slack/blocks/scorecard-blocks';
import { SUGGEST_USE_ACTION, suggestMessage } from '../../src/slack/blocks/suggest-blocks';
import { readSuggestUse } from '../../src/slack/listeners/actions/suggest';
import type { Offer, OfferedMetric } from '../../src/usecases/learning-service';
import { generateFeatures, measure, sampleFeatures } from '../fixtures/board';

function offered(over: Partial<OfferedMetric> & Pick<OfferedMetric, 'metric'>): OfferedMetric {
  return {
    source: 'prometheus',
    score: 1,
    matched: ['bulk', 'export'],
    similar: [],
    value: 336,
    target: { op: '>=', target: 400, why: "20% above this week's level" },
    ...over,
  };
}

const offer: Offer = {
  title: 'Bulk exports <for> & co',
  featureId: 'F-4',
  metrics: [
    offered({
      metric: 'bulk_export_total',
      description: 'Bulk exports completed, by format',
      similar: [
        {
          id: 'F-1',
          title: 'Bulk export v1',
          metric: 'bulk_export_total',
          op: '>=',
          target: 200,
          window: 'week',
          verdict: 'met',
          value: 336,
          share: 1.68,
          similarity: 0.8,
        },
      ],
    }),
    offered({ metric: 'bulk_export_failures_total', value: null, target: null }),
    offered({
      metric: 'posthog:"export clicked"',
      source: 'posthog',
      value: null,
      valueError: 'posthog: HTTP 503',
      target: null,
    }),
  ],
  searched: { metrics: 12, features: 3, unavailable: [] },
};

function limits(blocks: readonly unknown[]) {
  const m = measure(blocks);
  expect(m.blocks).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
  expect(m.longestSection).toBeLessThanOrEqual(3000);
  expect(m.totalText).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
}

describe('suggestMessage', () => {
  it('shows each metric with its value, suggested target, similar features and a button (snapshot)', () => {
    const m = suggestMessage(offer);
    expect(m).toMatchSnapshot();
    limits(m.blocks);
    const json = JSON.stringify(m.blocks);
    expect(json).toContain('Bulk exports &lt;for&gt; &amp; co');
    expect(json).toContain('*This week:* 336');
    expect(json).toContain('*Suggested target:* >= 400 per week');
    expect(json).toContain('F-1 · Bulk export v1 (met, 168% of target)');
    expect(json).toContain('*This week:* no data yet');
    expect(json).toContain('*This week:* unknown');
  });

  it('carries the metric and target in the button, read back by the action', () => {
    const buttons = suggestMessage(offer).blocks.flatMap((b) =>
      'accessory' in b && b.accessory?.type === 'button' ? [b.accessory] : [],
    );
    expect(buttons).toHaveLength(3);
    expect(buttons.every((b) => b.action_id === SUGGEST_USE_ACTION)).toBe(true);
    expect(readSuggestUse(buttons[0]!.value)).toEqual({ f: 'F-4', m: 'bulk_export_total', o: '>=', t: 400 });
    expect(readSuggestUse(buttons[1]!.value)).toEqual({ f: 'F-4', m: 'bulk_export_failures_total' });
    expect(readSuggestUse('{"f":"F-4"}')).toBeNull();
    expect(readSuggestUse('{"f":"F-4","m":"x","o":"=="}')).toBeNull();
    expect(readSuggestUse('not json')).toBeNull();
  });

  it('says there is nothing close, with what was searched, and offers nothing', () => {
    const m = suggestMessage({
      ...offer,
      metrics: [],
      searched: { metrics: 12, features: 3, unavailable: ['posthog'] },
    });
    expect(m).toMatchSnapshot();
    expect(m.blocks).toHaveLength(1);
    expect(JSON.stringify(m.blocks)).toContain('Nothing close');
    expect(JSON.stringify(m.blocks)).toContain('posthog could not be listed just now');
    expect(JSON.stringify(m.blocks)).not.toContain(SUGGEST_USE_ACTION);
  });

  it('stays within the limits with the longest names and titles', () => {
    const long = 'x'.repeat(5000);
    const m = suggestMessage({
      title: long,
      featureId: 'F-999999',
      metrics: [1, 2, 3].map(() =>
        offered({
          metric: `${long}_total`,
          description: long,
          similar: [1, 2, 3].map((i) => ({
            id: `F-${i}`,
            title: long,
            metric: 'm',
            op: '>=' as const,
            target: 1,
            window: 'week' as const,
            similarity: 1,
          })),
        }),
      ),
      searched: { metrics: 1, features: 1, unavailable: [] },
    });
    limits(m.blocks);
    // A metric too long for the form's option gets no button rather than a broken one.
    expect(JSON.stringify(m.blocks)).not.toContain(SUGGEST_USE_ACTION);
  });
});

describe('calibration on the card, the scorecard', () => {
  const feature: Feature = {
    id: 'F-4',
    team: 'T1',
    title: 'Bulk export',
    ownerId: 'U1',
    proposedBy: 'U1',
    status: 'measurable',
    createdAt: '2026-10-01T09:00:00.000Z',
    expectation: (() => {
      const r = parseExpectation('bulk_export_total >= 200 per week');
      if (!r.ok) throw new Error(r.error);
      return r.value;
    })(),
  };

  it('adds a context line under the status on the card (snapshot)', () => {
    const line = "Owner's past expectations: met 2 of 3; actuals at a median 105% of target, 56%–168%";
    const m = cardMessage(feature, { calibration: line });
    expect(m).toMatchSnapshot();
    const contexts = m.blocks.filter((b) => b.type === 'context');
    expect(JSON.stringify(contexts[contexts.length - 1])).toContain(line);
    expect(cardMessage(feature).blocks).toHaveLength(m.blocks.length - 1);
    limits(cardMessage(feature, { calibration: 'y'.repeat(5000) }).blocks);
  });

  it("lists the team's and each owner's calibration on the scorecard", () => {
    const card = scorecard(sampleFeatures());
    const owners = new Map([[card.owners[0]!.ownerId, 'met 1 of 1; only one judged expectation so far']]);
    const r = scorecardBlocks({
      card,
      calibration: { team: 'met 3 of 5; actuals at a median 64% of target, 20%–130%', owners },
    });
    expect(r).toMatchSnapshot();
    const json = JSON.stringify(r.blocks);
    expect(json).toContain('*Team calibration:* met 3 of 5; actuals at a median 64% of target, 20%–130%');
    expect(json).toContain(`<@${card.owners[0]!.ownerId}>: met 1 of 1`);
  });

  it('keeps the scorecard within limits with 1,000 owners and their calibration', () => {
    const big = scorecard(generateFeatures(1000, undefined, 7, 1000));
    const owners = new Map(
      big.owners.map((o) => [o.ownerId, 'met 3 of 5; actuals at a median 64% of target, 20%–130%']),
    );
    const r = scorecardBlocks({ card: big, calibration: { team: 'met 3 of 5', owners } });
    limits(r.blocks);
    expect(JSON.stringify(r.blocks)).toContain('*Calibration by owner*');
  });
});
