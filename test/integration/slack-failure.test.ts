import { webApi } from '@slack/bolt';
import { UnrecoverableError } from 'bullmq';
import { asJobError, classifySlackFailure, retryAfterMs } from '../../src/slack/slack-failure';
import { SlackStandIn } from '../support/slack-stand-in';

/** Real WebClient errors, from a real WebClient talking to the stand-in that fails on demand. */
let slack: SlackStandIn;
let client: webApi.WebClient;

beforeAll(async () => {
  slack = new SlackStandIn();
  await slack.start();
  client = new webApi.WebClient('xoxb-test', {
    slackApiUrl: `${slack.url}/api/`,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
});
afterAll(async () => {
  await slack.stop();
});

async function failureOf(failure: Parameters<SlackStandIn['fail']>[1]): Promise<unknown> {
  slack.fail('chat.postMessage', failure);
  return client.chat.postMessage({ channel: 'C1', text: 'x' }).then(
    () => {
      throw new Error('the call should have failed');
    },
    (err: unknown) => err,
  );
}

describe('sorting Web API failures', () => {
  it('a channel the bot is not in, or a revoked token, is permanent: the job fails at once', async () => {
    for (const error of ['not_in_channel', 'channel_not_found', 'token_revoked', 'invalid_blocks']) {
      const err = await failureOf({ error });
      expect(classifySlackFailure(err)).toBe('permanent');
      const jobError = asJobError(err);
      expect(jobError).toBeInstanceOf(UnrecoverableError);
      expect((jobError as Error).message).toBe(`Slack refused for good: ${error}`);
    }
  });

  it("Slack's own trouble and a 429 are retried, never given up", async () => {
    const internal = await failureOf({ error: 'internal_error' });
    expect(classifySlackFailure(internal)).toBe('retryable');
    expect(asJobError(internal)).toBe(internal);
    const limited = await failureOf({ status: 429, retryAfter: 3 });
    expect(classifySlackFailure(limited)).toBe('rate-limited');
    expect(asJobError(limited)).toBe(limited);
    // What a job waits for, in the delayed set: Slack's Retry-After.
    expect(retryAfterMs(limited)).toBe(3000);
    expect(retryAfterMs(internal)).toBeNull();
    const http = await failureOf({ status: 503 });
    expect(classifySlackFailure(http)).toBe('retryable');
  });

  it('an error that is not the Web API is left to its caller', () => {
    const err = new Error('prometheus: fetch failed');
    expect(classifySlackFailure(err)).toBeNull();
    expect(asJobError(err)).toBe(err);
  });
});
