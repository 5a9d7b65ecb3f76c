import Redis from 'ioredis';
import pino from 'pino';
import { posterDelivery } from '../../src/jobs/pacing';
import { WebApiPort } from '../../src/slack/port';
import { FeatureStore } from '../../src/store/feature-store';
import { SingleWorkspace } from '../../src/workspaces/types';
import { SlackStandIn } from '../support/slack-stand-in';

/**
 * A run that dies between Slack's answer and marking its post done leaves the post "attempted":
 * the next run looks for it in the thread (by the effect key in the message's metadata) and posts
 * it only if it is not there.
 */
describe('a post attempted before is looked for before it is posted again', () => {
  const slack = new SlackStandIn();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `test:reconcile:${Date.now()}:`;
  afterAll(async () => {
    await slack.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('finds its own post by metadata and does not post twice; another post is posted', async () => {
    await slack.start();
    const store = new FeatureStore(redis, prefix);
    const feature = await store.create('T1', () => ({
      title: 'Bulk export',
      ownerId: 'U1',
      proposedBy: 'U1',
      status: 'launched',
      createdAt: '2026-11-01T00:00:00.000Z',
      channel: 'C1',
      cardTs: '1790000000.000001',
    }));
    const port = new WebApiPort({
      workspaces: new SingleWorkspace({ botToken: 'xoxb-test' }),
      clientOptions: { slackApiUrl: `${slack.url}/api/`, retryConfig: { retries: 0 } },
    });
    const deliver = posterDelivery(store, port, pino({ level: 'silent' }));
    const delivery = {
      kind: 'thread' as const,
      team: 'T1',
      id: feature.id,
      message: { text: 'F-1: on track', blocks: [] },
    };
    const posts = () => slack.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === feature.cardTs);

    await deliver(delivery, { key: 'check:T1:F-1:week-1', retried: false });
    expect(posts()).toHaveLength(1);
    expect(posts()[0]!.body.metadata).toEqual({
      event_type: 'donedone_post',
      event_payload: { key: 'check:T1:F-1:week-1' },
    });
    // The run died before `done`; the next one is told the post was attempted.
    await deliver(delivery, { key: 'check:T1:F-1:week-1', retried: true });
    expect(posts()).toHaveLength(1);
    expect(slack.callsTo('conversations.replies')).toHaveLength(1);
    // A post attempted before that never reached Slack is posted.
    await deliver(delivery, { key: 'check:T1:F-1:week-2', retried: true });
    expect(posts()).toHaveLength(2);
  });
});
