import type { webApi } from '@slack/bolt';

type WebClient = webApi.WebClient;

import type { Feature } from '../domain/model';
import type { Message } from './blocks/card-blocks';
import { cardMessage } from './blocks/card-blocks';

/** Where donedone speaks in Slack: cards, thread replies and DMs. */
export class SlackPoster {
  /** `cardLine`: the owner's calibration for the card (learning-service); a failure leaves it out. */
  constructor(
    private readonly client: WebClient,
    private readonly cardLine?: (feature: Feature) => Promise<string | null>,
  ) {}

  private async card(feature: Feature): Promise<Message> {
    const calibration = this.cardLine ? await this.cardLine(feature).catch(() => null) : null;
    return cardMessage(feature, { calibration });
  }

  /** Posts a feature's card; its ts becomes the feature's thread. */
  async postCard(feature: Feature, channel: string, threadTs?: string): Promise<string> {
    const message = await this.card(feature);
    const res = await this.client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return res.ts as string;
  }

  async updateCard(feature: Feature): Promise<void> {
    if (!feature.channel || !feature.cardTs) return;
    const message = await this.card(feature);
    await this.client.chat.update({
      channel: feature.channel,
      ts: feature.cardTs,
      text: message.text,
      blocks: message.blocks,
    });
  }

  /** Posts in the feature's thread; returns the message ts. */
  async inThread(feature: Feature, message: Message): Promise<string | undefined> {
    if (!feature.channel || !feature.cardTs) return undefined;
    const res = await this.client.chat.postMessage({
      channel: feature.channel,
      thread_ts: feature.cardTs,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
    });
    return res.ts as string | undefined;
  }

  /** A direct message from the app to a person. */
  async dm(userId: string, message: Message): Promise<void> {
    await this.client.chat.postMessage({ channel: userId, text: message.text, blocks: message.blocks });
  }
}

/** The Slack error code of a failed Web API call, e.g. `not_in_channel`. */
export function slackErrorCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } })?.data?.error;
}
