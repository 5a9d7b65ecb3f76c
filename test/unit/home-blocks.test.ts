import { groupBoard } from '../../src/domain/board';
import { MAX_MESSAGE_TEXT } from '../../src/slack/blocks/digest-blocks';
import {
  HOME_OPEN_ACTION,
  HOME_PROPOSE_ACTION,
  homeView,
  MAX_HOME_BLOCKS,
} from '../../src/slack/blocks/home-blocks';
import { generateFeatures, linkFor, measure, NOW, sampleFeatures, usageFor } from '../fixtures/board';

const OPTS = { staleFlagDays: 180 };

type AnyBlock = { type: string; text?: { text: string }; accessory?: { action_id: string; value: string } };

function openButtons(blocks: readonly unknown[]): string[] {
  return (blocks as AnyBlock[])
    .filter((b) => b.accessory?.action_id === HOME_OPEN_ACTION)
    .map((b) => b.accessory!.value);
}

function sectionTexts(blocks: readonly unknown[]): string[] {
  return (blocks as AnyBlock[]).filter((b) => b.type === 'section').map((b) => b.text!.text);
}

describe('homeView', () => {
  const groups = groupBoard(sampleFeatures(), NOW, OPTS);

  it('renders the Home tab for one owner', () => {
    expect(homeView({ userId: 'UANNA', groups, now: NOW, linkFor })).toMatchSnapshot();
  });

  it('has a Propose button, then "Your features", then the team board', () => {
    const view = homeView({ userId: 'UANNA', groups, now: NOW, linkFor });
    expect(view.type).toBe('home');
    expect(JSON.stringify(view.blocks[1])).toContain(`"action_id":"${HOME_PROPOSE_ACTION}"`);
    const texts = sectionTexts(view.blocks);
    const yours = texts.findIndex((t) => t.startsWith('*Your features*'));
    const team = texts.findIndex((t) => t.startsWith('*Team board*'));
    expect(yours).toBeGreaterThanOrEqual(0);
    expect(team).toBeGreaterThan(yours);
    // UANNA's features by group (F-3 and F-1 are also retro due, F-10 also has a stale flag), then everyone's.
    const teamAt = (view.blocks as AnyBlock[]).findIndex((b) => b.text?.text.startsWith('*Team board*'));
    expect(openButtons(view.blocks.slice(0, teamAt))).toEqual([
      'F-1',
      'F-10',
      'F-3',
      'F-7',
      'F-3',
      'F-1',
      'F-10',
    ]);
    expect(new Set(openButtons(view.blocks.slice(teamAt)))).toEqual(
      new Set(['F-1', 'F-2', 'F-3', 'F-4', 'F-5', 'F-6', 'F-7', 'F-8', 'F-9', 'F-10']),
    );
  });

  it('tells an owner with nothing on the board how to start', () => {
    const view = homeView({ userId: 'UNOBODY', groups, now: NOW, linkFor });
    expect(JSON.stringify(view.blocks)).toContain('You own nothing on the board');
  });

  describe('with 1,000 features', () => {
    const features = generateFeatures(1000);
    const view = homeView({
      userId: 'U001',
      groups: groupBoard(features, NOW, OPTS),
      now: NOW,
      linkFor,
      usage: usageFor(features),
    });
    const m = measure(view.blocks);

    it("stays within Slack's Home tab limits", () => {
      expect(m.blocks).toBeLessThanOrEqual(MAX_HOME_BLOCKS);
      expect(m.longestSection).toBeLessThanOrEqual(3000);
      expect(m.totalText).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
    });

    it('summarises the rest of each group, in both halves', () => {
      const json = JSON.stringify(view.blocks);
      expect(json).toMatch(/…and \d+ more at risk: `\/donedone list mine`/);
      expect(json).toMatch(/…and \d+ more at risk: `\/donedone list all`/);
    });

    it('gives every shown feature an Open button carrying its id', () => {
      const ids = openButtons(view.blocks);
      expect(ids.length).toBeGreaterThan(20);
      expect(ids.every((id) => /^F-\d+$/.test(id))).toBe(true);
    });
  });
});
