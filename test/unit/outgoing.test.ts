import { hasLiveMention } from '../../src/domain/mentions';
import { guardBody, guardedFetch, readButtonValue } from '../../src/slack/outgoing';

const FORM = 'application/x-www-form-urlencoded';

describe('guardBody', () => {
  it('neutralises mentions in form fields and in the JSON blocks inside them, and stamps feature buttons', () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: 'F-1 · <!here> launch' } },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'check_now', value: 'F-1' },
          { type: 'button', action_id: 'other', value: 'not-a-feature' },
        ],
      },
    ];
    const body = new URLSearchParams({
      channel: 'C1',
      text: 'F-1 · <!channel>',
      blocks: JSON.stringify(blocks),
    });
    const out = new URLSearchParams(guardBody(body.toString(), FORM, 'ab12cd34') as string);
    expect(out.get('text')).toBe('F-1 · &lt;!channel&gt;');
    expect(hasLiveMention(out.get('blocks')!)).toBe(false);
    const sent = JSON.parse(out.get('blocks')!);
    expect(sent[1].elements[0].value).toBe('F-1|ab12cd34');
    expect(sent[1].elements[1].value).toBe('not-a-feature');
    expect(readButtonValue(sent[1].elements[0].value)).toEqual({ id: 'F-1', epoch: 'ab12cd34' });
  });

  it('neutralises JSON bodies (response_url answers) and the text fields of uploads', async () => {
    const json = guardBody(
      JSON.stringify({ text: '<!everyone> hi' }),
      'application/json',
      undefined,
    ) as string;
    expect(JSON.parse(json).text).toBe('&lt;!everyone&gt; hi');
    const form = new FormData();
    form.append('title', '<!subteam^S1|@devs> chart');
    form.append('file', new Blob([new Uint8Array([1, 2, 3])]), 'chart.png');
    const out = guardBody(form, '', undefined) as FormData;
    expect(out.get('title')).toBe('&lt;!subteam^S1|@devs&gt; chart');
    expect((await (out.get('file') as Blob).arrayBuffer()).byteLength).toBe(3);
  });

  it('is what fetch sends', async () => {
    const { sent, base } = recordingFetch();
    const guarded = guardedFetch(base, async () => 'e1');
    await guarded('http://x/api/chat.postMessage', {
      method: 'POST',
      headers: { 'Content-Type': FORM },
      body: 'text=%3C!here%3E',
    });
    expect(new URLSearchParams(sent[0]!).get('text')).toBe('&lt;!here&gt;');
  });

  it('reads the epoch only for a body with a feature button, and stamps it there (form and JSON)', async () => {
    const { sent, base } = recordingFetch();
    let reads = 0;
    const guarded = guardedFetch(base, async () => {
      reads++;
      return 'a1b2c3d4';
    });
    // A thread post (text only), then a card whose only button carries no feature id.
    const blocks = JSON.stringify([{ type: 'section', text: { type: 'mrkdwn', text: 'F-7 checked' } }]);
    const otherButton = JSON.stringify([
      { type: 'actions', elements: [{ type: 'button', action_id: 'open', value: 'settings' }] },
    ]);
    await guarded('http://x/api/chat.postMessage', {
      method: 'POST',
      headers: { 'Content-Type': FORM },
      body: new URLSearchParams({ channel: 'C1', text: 'F-7', blocks }).toString(),
    });
    expect(reads).toBe(0);
    await guarded('http://x/api/chat.update', {
      method: 'POST',
      headers: { 'Content-Type': FORM },
      body: new URLSearchParams({ channel: 'C1', text: 'plain', blocks: otherButton }).toString(),
    });
    expect(reads).toBe(0);
    const withButton = JSON.stringify([
      { type: 'actions', elements: [{ type: 'button', action_id: 'mark_launched', value: 'F-7' }] },
    ]);
    await guarded('http://x/api/chat.update', {
      method: 'POST',
      headers: { 'Content-Type': FORM },
      body: new URLSearchParams({ channel: 'C1', text: 'card', blocks: withButton }).toString(),
    });
    await guarded('http://x/hooks/response', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'card', blocks: JSON.parse(withButton) }),
    });
    expect(reads).toBe(2);
    expect(new URLSearchParams(sent[2]!).get('blocks')).toContain('"value":"F-7|a1b2c3d4"');
    expect(sent[3]).toContain('"value":"F-7|a1b2c3d4"');
    // The epoch cannot be read: the button goes out bare, as before epochs existed.
    const unreadable = guardedFetch(base, async () => {
      throw new Error('redis down');
    });
    await unreadable('http://x/hooks/response', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ blocks: JSON.parse(withButton) }),
    });
    expect(sent[4]).toContain('"value":"F-7"');
  });

  it('passes a body with nothing to guard as it is, and still finds a mention however it is encoded', () => {
    const plain = new URLSearchParams({ channel: 'C1', text: 'F-7: 120 a week (target 100)' }).toString();
    expect(guardBody(plain, FORM, 'e1')).toBe(plain);
    const json = JSON.stringify({
      text: 'checked',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'ok' } }],
    });
    expect(guardBody(json, 'application/json', undefined)).toBe(json);
    // `<` written as JSON's \u003c, and `<!` and `!` percent-encoded in a form: neutralised all the same.
    const escaped = '{"text":"\\u003c!here> look"}';
    expect(JSON.parse(guardBody(escaped, 'application/json', undefined) as string).text).toBe(
      '&lt;!here&gt; look',
    );
    const encoded = 'channel=C1&text=%3C%21channel%3E+now';
    expect(new URLSearchParams(guardBody(encoded, FORM, undefined) as string).get('text')).toBe(
      '&lt;!channel&gt; now',
    );
    // A malformed form body is not trusted to be clean: it goes through the full guard.
    expect(
      new URLSearchParams(guardBody('text=%E0%A4%A&x=<!everyone>', FORM, undefined) as string).get('x'),
    ).toBe('&lt;!everyone&gt;');
  });
});

/** A fetch that records the body of each request it is given, and answers `{}`. */
function recordingFetch(): { sent: string[]; base: typeof fetch } {
  const sent: string[] = [];
  const base = (async (_url: unknown, init?: RequestInit) => {
    sent.push(String(init?.body));
    return new Response('{}');
  }) as typeof fetch;
  return { sent, base };
}
