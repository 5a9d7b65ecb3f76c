import { DateTime } from 'luxon';
import { monthsUsed } from '../../src/domain/months-used';
import { MAX_MESSAGE_BLOCKS } from '../../src/slack/blocks/digest-blocks';
import { usageBlocks } from '../../src/slack/blocks/usage-blocks';
import { EXPECTATION, feature, linkFor, measure, NOW } from '../fixtures/board';

const month = (ym: string, value: number | null) => ({
  month: DateTime.fromISO(`${ym}-01T00:00:00Z`, { zone: 'utc' }),
  value,
});

describe('usageBlocks', () => {
  const f = feature({ id: 'F-3', title: 'Bulk <export>', status: 'in use', expectation: EXPECTATION });
  const usage = monthsUsed(
    [
      month('2025-12', 0),
      month('2026-01', 5),
      month('2026-02', null),
      month('2026-03', 9),
      month('2026-04', 0),
      month('2026-05', 0),
      month('2026-06', 1),
      month('2026-07', 0),
      month('2026-08', 0),
      month('2026-09', 0),
      month('2026-10', 0),
      month('2026-11', 2),
    ],
    NOW,
  );

  it('renders the strip and the words', () => {
    expect(usageBlocks({ feature: f, usage, linkFor })).toMatchSnapshot();
  });

  it('says how many months, shows the strip over the month initials, and names months without data', () => {
    const r = usageBlocks({ feature: f, usage, linkFor });
    const json = JSON.stringify(r.blocks);
    expect(r.text).toBe('F-3 Bulk &lt;export&gt;: used in 4 of the last 12 months');
    expect(json).toContain('█ used: `bulk_export_total` above zero in that calendar month');
    expect(json).toContain('|F-3> Bulk &lt;export&gt;: *used in 4 of the last 12 months*');
    expect(json).toContain('```▁█░█▁▁█▁▁▁▁█\\nDJFMAMJJASON```');
    expect(json).toContain('No data for Feb 2026');
    const m = measure(r.blocks);
    expect(m.blocks).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
    expect(m.longestSection).toBeLessThanOrEqual(3000);
  });

  it('asks whether the metric is instrumented when no month has data', () => {
    const r = usageBlocks({ feature: f, usage: monthsUsed([], NOW), linkFor });
    expect(JSON.stringify(r.blocks)).toContain('is it instrumented?');
  });
});
