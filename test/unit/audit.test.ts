import { auditEntries } from '../../src/domain/audit';
import type { Feature } from '../../src/domain/model';
import { historyBlocks, historyLine } from '../../src/slack/blocks/history-blocks';

const base: Feature = {
  id: 'F-3',
  team: 'T1',
  title: 'Bulk export',
  ownerId: 'U1',
  proposedBy: 'U1',
  status: 'proposed',
  createdAt: '2026-10-01T09:00:00.000Z',
};
const AT = '2026-10-02T10:00:00.000Z';

describe('auditEntries', () => {
  it('records a creation as proposed', () => {
    expect(auditEntries(null, base, 'U1', AT)).toEqual([
      { at: AT, by: 'U1', what: 'proposed', before: null, after: 'Bulk export' },
    ]);
  });

  it('records each traced field that changed, before → after, and nothing for bookkeeping', () => {
    const after: Feature = {
      ...base,
      ownerId: 'U2',
      status: 'launched',
      launchedAt: '2026-10-02T00:00:00.000Z',
      cardTs: '1.2',
      lastVerdict: 'met',
      instrumented: 'yes',
    };
    expect(auditEntries(base, after, 'U9', AT)).toEqual([
      { at: AT, by: 'U9', what: 'owner', before: 'U1', after: 'U2' },
      { at: AT, by: 'U9', what: 'status', before: 'proposed', after: 'launched' },
      { at: AT, by: 'U9', what: 'launch', before: null, after: '2026-10-02T00:00:00.000Z' },
    ]);
    expect(auditEntries(after, { ...after, cardTs: '9.9', lastVerdict: 'missed' }, 'donedone', AT)).toEqual(
      [],
    );
  });
});

describe('historyBlocks', () => {
  it('shows who changed what, escaping what people typed, within one section of 3000 characters', () => {
    const entries = Array.from({ length: 200 }, (_, i) => ({
      at: AT,
      by: 'U1',
      what: 'expectation',
      before: `x_total >= ${i} <!channel> & co`,
      after: `x_total >= ${i + 1}`,
    }));
    const blocks = historyBlocks(entries);
    expect(blocks).toHaveLength(1);
    const text = (blocks[0] as { text: { text: string } }).text.text;
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toContain(historyLine(entries[199]!));
    expect(text).toMatch(/and \d+ earlier changes/);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt; &amp; co');
  });

  it('names people in owner changes and the API by name', () => {
    expect(historyLine({ at: AT, by: 'api', what: 'owner', before: 'U1', after: 'U2' })).toBe(
      '2026-10-02 10:00 · the HTTP API · owner: <@U1> → <@U2>',
    );
  });
});
