import { groupBoard } from '../../src/domain/board';
import { digestBlocks, MAX_MESSAGE_BLOCKS, MAX_MESSAGE_TEXT } from '../../src/slack/blocks/digest-blocks';
import { escapeMrkdwn, truncate } from '../../src/slack/blocks/escape';
import {
  feature,
  generateFeatures,
  linkFor,
  measure,
  NOW,
  sampleFeatures,
  usageFor,
} from '../fixtures/board';

const OPTS = { staleFlagDays: 180 };
const allText = (blocks: unknown[]) => JSON.stringify(blocks);

describe('escapeMrkdwn', () => {
  it('escapes Slack control characters, ampersand first', () => {
    expect(escapeMrkdwn('<@U1> & <!channel> >')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt; &gt;');
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });
  it('truncates with an ellipsis without splitting an emoji', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
  });
});

describe('digestBlocks', () => {
  const usage = new Map([
    ['F-1', 'used in 2 of the last 12 months'],
    ['F-2', 'used in 1 of the last 12 months'],
    ['F-3', 'used in 2 of the last 12 months'],
  ]);

  it('renders a small board', () => {
    const groups = groupBoard(sampleFeatures(), NOW, OPTS);
    expect(digestBlocks({ groups, now: NOW, linkFor, usage })).toMatchSnapshot();
  });

  it('starts with the headline counts and links each feature to its thread with its owner', () => {
    const { text, blocks } = digestBlocks({
      groups: groupBoard(sampleFeatures(), NOW, OPTS),
      now: NOW,
      linkFor,
      usage,
    });
    expect(text).toBe(
      'donedone digest: 10 features: 1 met, 2 on track, 1 at risk, 1 missed, 1 waiting for first use, 1 not checked yet, 1 without an expectation, 1 not launched · 3 retros due · 2 stale flags',
    );
    const json = allText(blocks);
    expect(json).toContain(
      '<https://slack.com/archives/C1/p1700000003000100|F-3> Dark mode &lt;beta&gt; &amp; themes · <@UANNA>',
    );
    expect(json).toContain('*F-8* Mobile push · <@UBEN>');
    expect(json).not.toContain('Dropped idea');
  });

  it('shows months used only for features launched over a month ago', () => {
    const json = allText(
      digestBlocks({ groups: groupBoard(sampleFeatures(), NOW, OPTS), now: NOW, linkFor, usage }).blocks,
    );
    expect(json).toContain('Bulk export · <@UANNA> · used in 2 of the last 12 months');
    expect(json).not.toContain('Saved searches · <@UBEN> · used in');
  });

  it('says why a flag is stale', () => {
    const json = allText(
      digestBlocks({ groups: groupBoard(sampleFeatures(), NOW, OPTS), now: NOW, linkFor }).blocks,
    );
    expect(json).toContain('flag `ranking-v2` 200 days old');
    expect(json).toContain('flag `new-onboarding` still linked after \\"keep\\": remove it');
  });

  it('says so when the board is empty', () => {
    const r = digestBlocks({ groups: groupBoard([], NOW, OPTS), now: NOW, linkFor });
    expect(r.text).toBe('donedone digest: 0 features');
    expect(allText(r.blocks)).toContain('Nothing on the board yet');
  });

  describe('with 1,000 features', () => {
    const features = generateFeatures(1000);
    const r = digestBlocks({
      groups: groupBoard(features, NOW, OPTS),
      now: NOW,
      linkFor,
      usage: usageFor(features),
    });
    const m = measure(r.blocks);

    it("stays within Slack's limits", () => {
      expect(m.blocks).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
      expect(m.longestSection).toBeLessThanOrEqual(3000);
      expect(m.longestHeader).toBeLessThanOrEqual(150);
      expect(m.totalText).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
      expect(r.text.length).toBeLessThanOrEqual(4000);
    });

    it('summarises what does not fit, naming the group and where to see it', () => {
      expect(allText(r.blocks)).toMatch(/…and \d+ more at risk: `\/donedone list all`/);
      expect(allText(r.blocks)).toMatch(/…and \d+ more with a retro due: `\/donedone list all`/);
    });

    it('keeps every non-empty group, however large the others', () => {
      const json = allText(r.blocks);
      for (const label of ['*Met*', '*On track*', '*At risk*', '*Missed*', '*Retro due*', '*Stale flags*']) {
        expect(json).toContain(label);
      }
    });

    it('stays within the limits when one group holds everything and titles are as long as they get', () => {
      const huge = Array.from({ length: 1000 }, (_, i) =>
        feature({
          id: `F-${i + 1}`,
          status: 'proposed',
          title: `<&>${'x'.repeat(500)}`,
          ownerId: 'U0123456789',
        }),
      );
      const one = digestBlocks({ groups: groupBoard(huge, NOW, OPTS), now: NOW, linkFor });
      const mm = measure(one.blocks);
      expect(mm.blocks).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
      expect(mm.longestSection).toBeLessThanOrEqual(3000);
      expect(mm.totalText).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
      expect(allText(one.blocks)).toMatch(/…and \d+ more without an expectation/);
    });
  });
});
