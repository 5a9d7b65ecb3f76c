import { DateTime } from 'luxon';
import type { Feature } from '../../src/domain/model';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { cardMessage, checkMessage } from '../../src/slack/blocks/card-blocks';
import { listMessage, showMessage } from '../../src/slack/blocks/show-blocks';

function expectation(text: string) {
  const r = parseExpectation(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const base: Feature = {
  id: 'F-1',
  team: 'T1',
  title: 'Bulk export <script> & co',
  ownerId: 'U1',
  proposedBy: 'U1',
  status: 'measurable',
  createdAt: '2026-10-01T09:00:00.000Z',
  channel: 'C1',
  cardTs: '1.000001',
  expectation: expectation('bulk_export_total >= 200 per week within 30 days'),
  instrumented: 'yes',
};

function assertLimits(blocks: unknown[]) {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks as { text?: { text: string } }[]) {
    if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
  }
  const text = (blocks as { text?: { text: string }; elements?: { text?: string }[] }[])
    .flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => e.text ?? '')])
    .join('');
  expect(text.length).toBeLessThanOrEqual(12_000);
}

describe('feature card', () => {
  it('renders a measurable feature (snapshot), escaping user text', () => {
    const m = cardMessage(base);
    expect(m).toMatchSnapshot();
    expect(JSON.stringify(m.blocks)).toContain('Bulk export &lt;script&gt; &amp; co');
    assertLimits(m.blocks);
  });

  it('asks the question and offers the answer button without an expectation', () => {
    const { expectation: _, ...proposed } = base;
    const m = cardMessage({ ...proposed, status: 'proposed' });
    expect(m.text).toContain('How will we know it works in production?');
    expect(m).toMatchSnapshot();
  });

  it('warns when the metric is not instrumented', () => {
    expect(JSON.stringify(cardMessage({ ...base, instrumented: 'no' }).blocks)).toContain('not instrumented');
  });

  it('keeps a 150-character title and a long hypothesis within the section limit', () => {
    const m = cardMessage({ ...base, title: 'x'.repeat(150), hypothesis: 'y'.repeat(5000) });
    assertLimits(m.blocks);
  });
});

describe('check message', () => {
  it('shows expected vs actual, the verdict and the query (snapshot)', () => {
    const m = checkMessage(base, {
      at: '2026-10-15T00:00:00.000Z',
      kind: 'scheduled',
      value: 180,
      verdict: 'at risk',
      query: 'sum(increase(bulk_export_total[7d]))',
      projected: 190,
    });
    expect(m).toMatchSnapshot();
    expect(m.text).toBe('F-1: at risk. Expected >= 200 per week, actual 180.');
  });

  it('says an unreachable telemetry is not a miss', () => {
    const m = checkMessage(base, {
      at: '2026-10-15T00:00:00.000Z',
      kind: 'manual',
      value: null,
      verdict: 'unknown',
      query: '',
      error: 'prometheus: HTTP 503',
    });
    expect(JSON.stringify(m.blocks)).toContain('This is not a miss');
  });
});

describe('show and list', () => {
  it('list of 2,000 features stays within Slack limits', () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...base, id: `F-${i + 1}` }));
    const m = listMessage(many, 'All features');
    assertLimits(m.blocks);
    expect(JSON.stringify(m.blocks)).toContain('The list is cut here');
  });

  it("a list's notification text counts one feature, and many", () => {
    expect(listMessage([base], 'Your features').text).toBe('Your features: 1 feature');
    expect(listMessage([base, { ...base, id: 'F-2' }], 'Your features').text).toBe(
      'Your features: 2 features',
    );
  });

  it('shows checks, waiting for first use and notes', () => {
    const m = showMessage(
      { ...base, status: 'launched', launchedAt: '2026-10-01T00:00:00.000Z' },
      [{ at: '2026-10-08T00:00:00.000Z', kind: 'scheduled', value: 0, verdict: 'at risk', query: 'q' }],
      [],
      DateTime.fromISO('2026-10-09T12:00:00Z', { zone: 'utc' }),
    );
    const text = JSON.stringify(m.blocks);
    // Launched on 1 Oct, shown on 9 Oct: 8 days, whatever the verdict says.
    expect(text).toContain('not used yet · launched 8 days ago');
    expect(text).toContain('at risk');
    assertLimits(m.blocks);
  });
});
