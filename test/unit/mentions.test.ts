import { decodeSlackEntities, hasLiveMention, neutraliseMentions } from '../../src/domain/mentions';
import { escapeMrkdwn } from '../../src/slack/blocks/escape';

describe('neutraliseMentions', () => {
  it.each([
    '<!channel>',
    '<!here>',
    '<!everyone>',
    '<!channel|channel>',
    '<!here|here>',
    '<!subteam^S012AB3CD>',
    '<!subteam^S012AB3CD|@devs>',
    '<!CHANNEL>',
  ])('%s no longer pings, and reads as written once Slack unescapes it', (mention) => {
    const out = neutraliseMentions(`Ship it ${mention} today`);
    expect(hasLiveMention(out)).toBe(false);
    expect(out).not.toContain('<!');
    expect(decodeSlackEntities(out)).toBe(`Ship it ${mention} today`);
  });

  it('leaves person mentions, dates and already escaped text alone', () => {
    const text = 'by <@U123> on <!date^1392734382^{date}|Feb 18> &lt;!channel&gt;';
    expect(neutraliseMentions(text)).toBe(text);
    expect(hasLiveMention(text)).toBe(false);
  });
});

describe('decodeSlackEntities', () => {
  it('decodes once, so text escaped once for display shows what was typed', () => {
    // What Slack sends for a typed `R&D <fast> & &amp;`:
    const fromSlack = 'R&amp;D &lt;fast&gt; &amp; &amp;amp;';
    const typed = decodeSlackEntities(fromSlack);
    expect(typed).toBe('R&D <fast> & &amp;');
    expect(escapeMrkdwn(typed)).toBe(fromSlack);
  });
});
