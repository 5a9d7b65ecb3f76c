import { DateTime } from 'luxon';
import { MAX_SERIES } from '../../src/charts/render-chart';
import { judgeCanary } from '../../src/domain/canary-stats';
import { parseCanarySpec } from '../../src/domain/parse-canary';
import {
  canaryChartSpec,
  canaryMessage,
  canaryProblemMessage,
  signedPercent,
} from '../../src/slack/blocks/canary-blocks';
import { MAX_MESSAGE_BLOCKS } from '../../src/slack/blocks/digest-blocks';
import type { CanaryResult, Judged, NodeSeries } from '../../src/usecases/canary-service';
import { measure } from '../fixtures/board';

const END = DateTime.fromISO('2026-11-01T12:00:00Z', { zone: 'utc' });
const START = END.minus({ hours: 1 });

/** 12 points a minute apart, level `base` with a small deterministic wobble. */
function node(value: string, base: number): NodeSeries {
  const points = Array.from({ length: 12 }, (_, i) => ({
    at: START.toSeconds() + i * 60,
    value: base + ((i * 7) % 5) - 2,
  }));
  return { value, points, median: base };
}

function result(spec: string, canaryBase: number, others: NodeSeries[]): CanaryResult {
  const parsed = parseCanarySpec(spec);
  if (!parsed.ok) throw new Error(parsed.error);
  const canary = node(parsed.value.value, canaryBase);
  const baseline = others[0]!.points.map((p, i) => ({
    at: p.at,
    value: [...others.map((o) => o.points[i]!.value!)].sort((a, b) => a - b)[Math.floor(others.length / 2)]!,
  }));
  const judgement = judgeCanary(
    canary.points.map((p) => p.value),
    baseline.map((p) => p.value),
    { higherIsBetter: parsed.value.higherIsBetter },
  ) as Judged;
  return {
    spec: parsed.value,
    judgement,
    canary,
    others,
    baseline,
    start: START,
    end: END,
    query: `sum by (${parsed.value.label}) (rate(${parsed.value.metric}{${parsed.value.label}!=""}[1m])) * 60`,
    confidence: 0.98,
    tolerance: 0.1,
  };
}

const hold = () =>
  result('checkout_revenue_dollars_total node=canary', 42, [node('n1', 60), node('n2', 61), node('n3', 59)]);
const pass = () =>
  result('latency_ms_sum pod=web-1 over 1h lower-is-better', 60, [node('web-2', 60), node('web-3', 60)]);

describe('canaryMessage', () => {
  it('renders a hold and a pass', () => {
    expect(canaryMessage(hold())).toMatchSnapshot();
    expect(canaryMessage(pass(), { feature: { id: 'F-3', title: 'Faster <checkout>' } })).toMatchSnapshot();
  });

  it('says the verdict, the difference with its interval, and each node’s rate', () => {
    const r = canaryMessage(hold());
    const json = JSON.stringify(r.blocks);
    expect(r.text).toMatch(
      /^Hold: node=canary is 30\.0% lower than the other node values on checkout_revenue_dollars_total over the last 1h \(−30\.0%, 98% CI −\d+\.\d% to −\d+\.\d%\)\.$/,
    );
    expect(json).toContain('the whole interval is more than 10% lower');
    expect(json).toContain('• `canary` (canary): 42 $/min');
    expect(json).toContain('• `n2`: 61 $/min');
    expect(json).toContain('12:00 UTC');
  });

  it('names the feature, escapes its title, and reads lower-is-better', () => {
    const r = canaryMessage(pass(), { feature: { id: 'F-3', title: 'Faster <checkout>' } });
    const json = JSON.stringify(r.blocks);
    expect(json).toContain('Canary of *F-3* Faster &lt;checkout&gt;');
    expect(json).toContain(':white_check_mark: *Pass*: `pod=web-1` is about the same as');
    expect(json).toContain('lower is better');
    expect(json).toContain('• `web-3`: 60 /min');
  });

  it('stays within Slack’s limits with 500 nodes, listing 20 and counting the rest', () => {
    const others = Array.from({ length: 500 }, (_, i) => node(`pod-${'x'.repeat(60)}-${i}`, 60));
    const r = canaryMessage(result('x_total pod=canary', 60, others));
    const m = measure(r.blocks);
    expect(m.blocks).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
    expect(m.longestSection).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(r.blocks)).toContain('…and 480 more pod values');
  });

  it('keeps user text from becoming mentions or closing inline code', () => {
    const r = canaryMessage(result('x_total node="<@U1> `x`"', 60, [node('n1', 60)]));
    const json = JSON.stringify(r.blocks);
    expect(json).not.toContain('<@U1>');
    expect(json).toContain("`node=&lt;@U1&gt; 'x'`");
  });
});

describe('canaryChartSpec', () => {
  it('draws the canary and each other node, in $/min for dollars', () => {
    const spec = canaryChartSpec(hold());
    expect(spec.title).toBe('checkout_revenue_dollars_total per minute by node: hold (−30.0%)');
    expect(spec.unit).toBe('$/min');
    expect(spec.series.map((s) => s.name)).toEqual(['canary (canary)', 'n1', 'n2', 'n3']);
    expect(spec.series[0]!.points).toHaveLength(12);
  });

  it('draws the canary and the baseline when there are more nodes than a chart tells apart', () => {
    const others = Array.from({ length: MAX_SERIES }, (_, i) => node(`n${i}`, 60));
    const spec = canaryChartSpec(result('x_total node=canary', 60, others));
    expect(spec.unit).toBe('/min');
    expect(spec.series.map((s) => s.name)).toEqual(['canary (canary)', `baseline (median of ${MAX_SERIES})`]);
  });
});

describe('canaryProblemMessage and signedPercent', () => {
  it('escapes the reason', () => {
    expect(canaryProblemMessage('No series has `node="<!here>"`.').text).toBe(
      'No series has `node="&lt;!here&gt;"`.',
    );
  });

  it('signs percentages with a real minus', () => {
    expect([signedPercent(-29.72), signedPercent(1.02), signedPercent(0.04), signedPercent(-0.04)]).toEqual([
      '−29.7%',
      '+1.0%',
      '0%',
      '0%',
    ]);
  });
});
