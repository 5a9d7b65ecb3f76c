import { UnrecoverableError } from 'bullmq';
import { WebApiPort } from '../../src/slack/port';
import { asJobError, NOT_INSTALLED, SlackError } from '../../src/slack/slack-failure';
import type { Installed, WorkspaceRef, Workspaces } from '../../src/workspaces/types';
import { SlackStandIn } from '../support/slack-stand-in';

/** Two installed workspaces, each with its own token; any other team has no installation. */
class TwoWorkspaces implements Workspaces {
  readonly tokens = new Map([
    ['TA', 'xoxb-team-a'],
    ['TB', 'xoxb-team-b'],
  ]);
  async installed(ref: WorkspaceRef): Promise<Installed | null> {
    const botToken = this.tokens.get(ref.team);
    return botToken ? { botToken } : null;
  }
}

describe('the Slack port', () => {
  const slack = new SlackStandIn();
  const workspaces = new TwoWorkspaces();
  let port: WebApiPort;

  beforeAll(async () => {
    await slack.start();
    port = new WebApiPort({
      workspaces,
      clientOptions: {
        slackApiUrl: `${slack.url}/api/`,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      },
    });
  });
  afterAll(() => slack.stop());

  it("speaks to each workspace with that workspace's token", async () => {
    await port.post('TA', 'C1', { text: 'to A', blocks: [] });
    await port.dm('TB', 'U2', { text: 'to B', blocks: [] });
    await port.update('TA', 'C1', '1.2', { text: 'edited', blocks: [] });
    const posted = slack.callsTo('chat.postMessage');
    expect(posted.map((c) => [c.body.text, c.token])).toEqual([
      ['to A', 'xoxb-team-a'],
      ['to B', 'xoxb-team-b'],
    ]);
    expect(slack.callsTo('chat.update')[0]!.token).toBe('xoxb-team-a');
    expect(await port.directory.isWorkspaceAdmin('TB', 'U9')).toBe(false);
    expect(slack.callsTo('users.info').at(-1)!.token).toBe('xoxb-team-b');
  });

  it('posts nothing for a workspace without an installation, and a job fails for good', async () => {
    const before = slack.calls.length;
    const err = await port.post('TGONE', 'C1', { text: 'lost', blocks: [] }).catch((e) => e);
    expect(err).toBeInstanceOf(SlackError);
    expect(err).toMatchObject({ kind: 'permanent', code: NOT_INSTALLED });
    expect(slack.calls.length).toBe(before);
    expect(asJobError(err)).toBeInstanceOf(UnrecoverableError);
  });

  it("sorts Slack's refusals: permanent, rate-limited with its Retry-After, retryable", async () => {
    slack.fail('chat.postMessage', { error: 'not_in_channel', times: 1 });
    await expect(port.post('TA', 'C1', { text: 'x', blocks: [] })).rejects.toMatchObject({
      kind: 'permanent',
      code: 'not_in_channel',
    });
    slack.fail('chat.postMessage', { status: 429, retryAfter: 7, times: 1 });
    await expect(port.post('TA', 'C1', { text: 'x', blocks: [] })).rejects.toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: 7_000,
    });
    slack.fail('chat.postMessage', { error: 'internal_error', status: 500, times: 1 });
    const retryable = await port.post('TA', 'C1', { text: 'x', blocks: [] }).catch((e) => e);
    expect(retryable).toMatchObject({ kind: 'retryable' });
    expect(asJobError(retryable)).toBe(retryable);
  });
});
