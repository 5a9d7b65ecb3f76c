import type { Feature } from '../../src/domain/model';
import { parseCommand } from '../../src/domain/parse-command';
import { parseExpectation } from '../../src/domain/parse-expectation';
import { parseGuard } from '../../src/domain/parse-guard';
import { cardMessage } from '../../src/slack/blocks/card-blocks';
import {
  guardBreachMessage,
  guardButtonValue,
  guardOwnerDm,
  guardRecoveredMessage,
  guardsLine,
  readGuardButtonValue,
} from '../../src/slack/blocks/guard-blocks';
import { answerModal } from '../../src/slack/blocks/modal-blocks';
import { readExpectation } from '../../src/slack/listeners/views/read-expectation';

const expectation = parseExpectation(
  'checkout_total >= 500 per week within 30 days guard checkout_error_ratio < 2% over 3h',
);
if (!expectation.ok) throw new Error(expectation.error);
const guard = expectation.value.guards![0]!;
const feature: Feature = {
  id: 'F-3',
  team: 'T1',
  title: 'New <checkout> @here',
  ownerId: 'U1',
  proposedBy: 'U2',
  status: 'launched',
  createdAt: '2026-10-01T00:00:00Z',
  channel: 'C1',
  cardTs: '1.2',
  expectation: expectation.value,
  launchedAt: '2026-10-30T00:00:00.000Z',
  flag: { key: 'new-checkout', since: '2026-10-30' },
};

function assertLimits(blocks: { type: string; text?: { text: string } }[]): void {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
}

describe('guard blocks', () => {
  it('a breach: what broke, the buttons with the feature, guard and breach, and fallback text', () => {
    const message = guardBreachMessage(feature, guard, 0.052, 'abc123', 2);
    expect(message).toMatchSnapshot();
    assertLimits(message.blocks as never);
    expect(message.text).toBe('F-3: guardrail breached: checkout_error_ratio &lt; 2% over 3h is 5.2%.');
    const actions = message.blocks.find((b) => b.type === 'actions') as { elements: { value: string }[] };
    expect(actions.elements.map((e) => readGuardButtonValue(e.value))).toEqual([
      { featureId: 'F-3', guardKey: 'abc123', episode: 2 },
      { featureId: 'F-3', guardKey: 'abc123', episode: 2 },
    ]);
    expect(JSON.stringify(message.blocks)).toContain('New &lt;checkout&gt;');
  });

  it('auto-pause that worked leaves no buttons; one that failed keeps them', () => {
    const paused = guardBreachMessage(feature, guard, 0.05, 'k', 1, { ok: true, text: 'turned off' });
    expect(paused.blocks.some((b) => b.type === 'actions')).toBe(false);
    const failed = guardBreachMessage(feature, guard, 0.05, 'k', 1, { ok: false, text: 'HTTP 500' });
    expect(failed.blocks.some((b) => b.type === 'actions')).toBe(true);
  });

  it('recovery and the owner DM', () => {
    expect(guardRecoveredMessage(feature, guard, 0.01).text).toBe(
      'F-3: guardrail checkout_error_ratio &lt; 2% over 3h holds again (1%).',
    );
    expect(guardOwnerDm(feature, guard, 0.05)).toMatchSnapshot();
  });

  it('the card lists guardrails; bad button values are refused', () => {
    expect(JSON.stringify(cardMessage(feature).blocks)).toContain(
      '*Guardrails* `checkout_error_ratio &lt; 2% over 3h`',
    );
    expect(guardsLine([])).toBeNull();
    expect(readGuardButtonValue('F-3|k|0')).toBeNull();
    expect(readGuardButtonValue(guardButtonValue('F-3', 'k', 4))).toEqual({
      featureId: 'F-3',
      guardKey: 'k',
      episode: 4,
    });
  });
});

describe('guards in the command and the modal', () => {
  it('parses /donedone guard', () => {
    expect(parseCommand('guard f-3 error_ratio < 2% auto-pause')).toEqual({
      ok: true,
      command: { name: 'guard', id: 'F-3', spec: 'error_ratio < 2% auto-pause' },
    });
    const bad = parseCommand('guard checkout');
    expect(bad.ok).toBe(false);
  });

  const values = (guards: string) => ({
    metric: { value: { selected_option: { value: 'checkout_total' } } },
    op: { value: { selected_option: { value: '>=' } } },
    target: { value: { value: '500' } },
    window: { value: { selected_option: { value: 'week' } } },
    deadline: { value: { value: '30' } },
    guards: { value: { value: guards } },
  });
  const opts = { optional: false, isCatalogName: () => false, whyUnmeasurable: () => null };

  it('reads the guardrail field, one a line, and ties a mistake to it', () => {
    const read = readExpectation(
      values('guard checkout_error_ratio < 2% over 3h\nhttp_p95_seconds < 0.5'),
      opts,
    );
    expect(read.expectation?.guards?.map((g) => g.text)).toEqual([
      'checkout_error_ratio < 2% over 3h',
      'http_p95_seconds < 0.5 over 1h',
    ]);
    const wrong = readExpectation(values('checkout_error_ratio below 2%'), opts);
    expect(wrong.errors.guards).toContain('`below` is not a comparison');
  });

  it('the form shows the guardrails already written', () => {
    const extra = parseGuard('http_p95_seconds < 0.5');
    if (!extra.ok) throw new Error(extra.error);
    const view = answerModal({ channel: 'C1', featureId: 'F-3' }, 'x', {
      ...expectation.value,
      guards: [guard, extra.value],
      ownerId: 'U1',
    });
    const input = view.blocks.find((b) => b.block_id === 'guards') as { element: { initial_value: string } };
    expect(input.element.initial_value).toBe(
      'checkout_error_ratio < 2% over 3h\nhttp_p95_seconds < 0.5 over 1h',
    );
    expect(view.blocks.length).toBeLessThanOrEqual(100);
  });
});
