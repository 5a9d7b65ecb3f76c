import { groupBoard } from '../../src/domain/board';
import { MAX_MESSAGE_BLOCKS, MAX_MESSAGE_TEXT } from '../../src/slack/blocks/digest-blocks';
import { ownerDmBlocks } from '../../src/slack/blocks/owner-dm-blocks';
import { EXPECTATION, feature, linkFor, measure, NOW, sampleFeatures } from '../fixtures/board';

const OPTS = { staleFlagDays: 180 };

describe('ownerDmBlocks', () => {
  const groups = groupBoard(sampleFeatures(), NOW, OPTS);

  it("renders an owner's features that need them", () => {
    expect(ownerDmBlocks({ ownerId: 'UANNA', groups, now: NOW, linkFor })).toMatchSnapshot();
  });

  it('lists only what needs the owner: no expectation, at risk, missed, retro due, stale flags', () => {
    const dm = ownerDmBlocks({ ownerId: 'UANNA', groups, now: NOW, linkFor })!;
    expect(dm.text).toBe(
      'donedone: 4 of your features need you (no expectation yet: 1, at risk: 1, retro due: 2, stale flags: 1)',
    );
    const json = JSON.stringify(dm.blocks);
    expect(json).toContain('Audit log');
    expect(json).toContain('Search ranking');
    expect(json).not.toContain('*Met*');
    expect(json).not.toContain('<@UANNA> ·'); // no owner mention on each line of their own DM
    // Placeholders are escaped, or Slack would read `<n>` as a control sequence.
    expect(json).toContain('`/donedone expect F-&lt;n&gt; &lt;expectation&gt;`');
    expect(json).not.toMatch(/<(n|expectation)>/);
  });

  it('is null when nothing needs the owner', () => {
    expect(ownerDmBlocks({ ownerId: 'UBEN', groups, now: NOW, linkFor })).toBeNull();
  });

  it('stays within the limits for an owner of 1,000 features that need them', () => {
    const features = Array.from({ length: 1000 }, (_, i) =>
      feature({
        id: `F-${i + 1}`,
        ownerId: 'UANNA',
        title: `Feature <${i}> ${'long '.repeat(i % 40)}`,
        ...(i % 2 === 0
          ? { status: 'proposed' as const }
          : {
              status: 'missed' as const,
              expectation: EXPECTATION,
              launchedAt: NOW.minus({ days: 40 }).toISO()!,
            }),
        flag: { key: `flag-${i}`, since: NOW.minus({ days: 300 }).toISO()! },
      }),
    );
    const dm = ownerDmBlocks({
      ownerId: 'UANNA',
      groups: groupBoard(features, NOW, OPTS),
      now: NOW,
      linkFor,
    })!;
    const m = measure(dm.blocks);
    expect(m.blocks).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
    expect(m.longestSection).toBeLessThanOrEqual(3000);
    expect(m.totalText).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
    expect(JSON.stringify(dm.blocks)).toMatch(/…and \d+ more missed: `\/donedone list mine`/);
  });
});
