import { scorecard } from '../../src/domain/scorecard';
import { MAX_MESSAGE_BLOCKS, MAX_MESSAGE_TEXT } from '../../src/slack/blocks/digest-blocks';
import { scorecardBlocks, sharePercent } from '../../src/slack/blocks/scorecard-blocks';
import { generateFeatures, measure, sampleFeatures } from '../fixtures/board';

describe('scorecardBlocks', () => {
  const card = scorecard(sampleFeatures());

  it('renders team totals and a row per owner', () => {
    expect(scorecardBlocks({ card })).toMatchSnapshot();
  });

  it('lines the numbers up in monospace, the owner after them', () => {
    const json = JSON.stringify(scorecardBlocks({ card }).blocks);
    expect(json).toContain('` prop   exp   w/o  lnch   use   met  miss retro  met%`');
    // UANNA: F-1 met, F-3, F-7 proposed, F-10, F-11 dropped: 5 proposed, 3 with an expectation, 2 without.
    expect(json).toContain('`    5     3     2     3     3     1     0     0  100%` <@UANNA>');
  });

  it('shows one owner with the team totals when asked', () => {
    const r = scorecardBlocks({ card, ownerId: 'UBEN' });
    const json = JSON.stringify(r.blocks);
    expect(json).toContain('<@UBEN>');
    expect(json).not.toContain('<@UANNA>');
    expect(json).toContain('*Proposed*\\n11');
  });

  it('writes shares as percentages', () => {
    expect(sharePercent(null)).toBe('–');
    expect(sharePercent(2 / 3)).toBe('67%');
  });

  it("stays within Slack's limits with 1,000 owners", () => {
    const big = scorecard(generateFeatures(1000, undefined, 7, 1000));
    const r = scorecardBlocks({ card: big });
    const m = measure(r.blocks);
    expect(big.owners.length).toBeGreaterThan(500);
    expect(m.blocks).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
    expect(m.longestSection).toBeLessThanOrEqual(3000);
    expect(m.longestField).toBeLessThanOrEqual(2000);
    expect(m.totalText).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
    expect(JSON.stringify(r.blocks)).toMatch(/…and \d+ more owners: `\/donedone scorecard @user`/);
  });
});
