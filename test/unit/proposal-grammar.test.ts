import { parseExpectation } from '../../src/domain/parse-expectation';
import { decideAck } from '../../src/slack/listeners/commands/donedone-command';

const service = { parseExpectation: (text: string) => parseExpectation(text) };

describe('a proposal whose title has the word expect', () => {
  it('keeps `expect` in the title when no reading holds an expectation', () => {
    const decided = decideAck('propose Users expect faster export', service);
    expect(decided).toEqual({
      kind: 'run',
      command: { name: 'propose', title: 'Users expect faster export' },
    });
  });

  it('splits at the `expect` whose expectation parses', () => {
    const decided = decideAck(
      'propose Users expect faster export expect bulk_export_total >= 200 per week',
      service,
    );
    expect(decided).toMatchObject({
      kind: 'run',
      command: {
        name: 'propose',
        title: 'Users expect faster export',
        expectation: 'bulk_export_total >= 200 per week',
      },
      expectation: { target: 200, window: 'week' },
    });
  });

  it('answers a broken expectation with its mistake and the other reading', () => {
    const decided = decideAck('propose Bulk export expect bulk_export_total >= lots', service);
    expect(decided.kind).toBe('answer');
    const text = decided.kind === 'answer' ? decided.text : '';
    expect(text).toContain('`lots` is not a number');
    expect(text).toContain('*Bulk export*');
    expect(text).toContain('as a word of the title');
    expect(text).toContain('Example: `/donedone propose Bulk export expect');
  });

  it('keeps the plain form working', () => {
    expect(decideAck('propose Dark mode', service)).toEqual({
      kind: 'run',
      command: { name: 'propose', title: 'Dark mode' },
    });
  });
});

describe('a window that cannot fit before the deadline', () => {
  it('is refused with an example', () => {
    const r = parseExpectation('x_total >= 1000 per month within 7 days');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain(
        '`per month` window (30 days) cannot fit before a deadline 7 days after launch',
      );
      expect(r.error).toContain('Example:');
    }
    expect(parseExpectation('x_total >= 1 per week within 5 days').ok).toBe(false);
    expect(parseExpectation('x_total >= 1 per week within 7 days').ok).toBe(true);
    expect(parseExpectation('x_total >= 1 per month').ok).toBe(true);
  });
});
