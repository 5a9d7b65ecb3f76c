import { webApi } from '@slack/bolt';
import type { Feature } from '../domain/model';
import type { Workspaces } from '../workspaces/types';
import type { Message } from './blocks/card-blocks';
import { cardMessage } from './blocks/card-blocks';
import { asSlackError, NOT_INSTALLED, SlackError } from './slack-failure';

type WebClient = webApi.WebClient;

/** What kind of conversation a feature was proposed in: only `public` features are seen by everyone. */
export type ConversationKind = 'public' | 'private' | 'im' | 'mpim';

/** What donedone asks Slack about people and conversations (conversations.info/members, users.info). */
export interface Directory {
  conversationKind(team: string, channel: string): Promise<ConversationKind>;
  members(team: string, channel: string): Promise<string[]>;
  isWorkspaceAdmin(team: string, user: string): Promise<boolean>;
}

export interface UploadArgs {
  channel: string;
  threadTs?: string;
  file: Buffer;
  filename: string;
  title: string;
  altText?: string;
  initialComment?: string;
}

/**
 * Where donedone speaks in Slack, for every use case and job: each call names (or carries, in the
 * feature) its workspace and is made with that workspace's token. Failures are `SlackError`s.
 * Mentions are neutralised and buttons stamped in one place below all of this: the clients' fetch
 * (`guardedFetch` in outgoing.ts).
 */
export interface SlackPort {
  /** Posts a feature's card; its ts becomes the feature's thread. */
  postCard(feature: Feature, channel: string, threadTs?: string): Promise<string>;
  updateCard(feature: Feature): Promise<void>;
  /** Posts in the feature's thread; returns the message ts (undefined when the feature has no card). */
  inThread(feature: Feature, message: Message): Promise<string | undefined>;
  /** A direct message from the app to a person. */
  dm(team: string, user: string, message: Message): Promise<void>;
  /** A message in a channel (or a thread of it); returns where it landed. */
  post(
    team: string,
    channel: string,
    message: Message,
    threadTs?: string,
  ): Promise<{ channel: string; ts: string }>;
  update(team: string, channel: string, ts: string, message: Message): Promise<void>;
  upload(team: string, file: UploadArgs): Promise<void>;
  permalink(team: string, channel: string, ts: string): Promise<string | undefined>;
  /** A person's IANA time zone as Slack knows it. */
  timezoneOf(team: string, user: string): Promise<string | undefined>;
  /** What donedone asks Slack about people and conversations. */
  directory: Directory;
}

export interface SlackPortOptions {
  workspaces: Workspaces;
  /** The WebClient options (API URL, retries, time-out, the guarded fetch). */
  clientOptions: webApi.WebClientOptions;
  /** The owner's calibration line on cards (learning); a failure leaves it out. */
  cardLine?: (feature: Feature) => Promise<string | null>;
}

/** One WebClient per token, made on first use (a workspace's token changes only on reinstall). */
class ClientsByToken {
  private readonly clients = new Map<string, WebClient>();
  constructor(private readonly options: webApi.WebClientOptions) {}

  get(token: string): WebClient {
    let client = this.clients.get(token);
    if (!client) {
      if (this.clients.size >= 10_000) this.clients.clear();
      client = new webApi.WebClient(token, this.options);
      this.clients.set(token, client);
    }
    return client;
  }
}

/** The Slack port over the Web API. */
export class WebApiPort implements SlackPort {
  private readonly clients: ClientsByToken;
  readonly directory: Directory;

  constructor(private readonly opts: SlackPortOptions) {
    this.clients = new ClientsByToken(opts.clientOptions);
    this.directory = {
      conversationKind: (team, channel) => this.call(team, (c) => conversationKind(c, channel)),
      members: (team, channel) => this.call(team, (c) => members(c, channel)),
      isWorkspaceAdmin: (team, user) =>
        this.call(team, async (c) => {
          const u = (await c.users.info({ user })).user;
          return Boolean(u?.is_admin || u?.is_owner || u?.is_primary_owner);
        }),
    };
  }

  /** Runs `fn` with the workspace's client; every failure leaves as a `SlackError`. */
  private async call<T>(team: string, fn: (client: WebClient) => Promise<T>): Promise<T> {
    const installed = await this.opts.workspaces.installed({ team });
    if (!installed) throw new SlackError('permanent', NOT_INSTALLED);
    try {
      return await fn(this.clients.get(installed.botToken));
    } catch (err) {
      throw asSlackError(err);
    }
  }

  private async card(feature: Feature): Promise<Message> {
    const calibration = this.opts.cardLine ? await this.opts.cardLine(feature).catch(() => null) : null;
    return cardMessage(feature, { calibration });
  }

  async postCard(feature: Feature, channel: string, threadTs?: string): Promise<string> {
    const message = await this.card(feature);
    return (await this.post(feature.team, channel, message, threadTs)).ts;
  }

  async updateCard(feature: Feature): Promise<void> {
    if (!feature.channel || !feature.cardTs) return;
    await this.update(feature.team, feature.channel, feature.cardTs, await this.card(feature));
  }

  async inThread(feature: Feature, message: Message): Promise<string | undefined> {
    if (!feature.channel || !feature.cardTs) return undefined;
    return (await this.post(feature.team, feature.channel, message, feature.cardTs)).ts;
  }

  async dm(team: string, user: string, message: Message): Promise<void> {
    await this.call(team, (c) =>
      c.chat.postMessage({ channel: user, text: message.text, blocks: message.blocks }),
    );
  }

  async post(
    team: string,
    channel: string,
    message: Message,
    threadTs?: string,
  ): Promise<{ channel: string; ts: string }> {
    const res = await this.call(team, (c) =>
      c.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks as never,
        unfurl_links: false,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      }),
    );
    return { channel: (res.channel as string | undefined) ?? channel, ts: res.ts as string };
  }

  async update(team: string, channel: string, ts: string, message: Message): Promise<void> {
    await this.call(team, (c) =>
      c.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never }),
    );
  }

  async upload(team: string, f: UploadArgs): Promise<void> {
    await this.call(team, (c) =>
      c.files.uploadV2({
        channel_id: f.channel,
        ...(f.threadTs ? { thread_ts: f.threadTs } : {}),
        file: f.file,
        filename: f.filename,
        title: f.title,
        ...(f.altText ? { alt_text: f.altText } : {}),
        ...(f.initialComment ? { initial_comment: f.initialComment } : {}),
      } as never),
    );
  }

  async permalink(team: string, channel: string, ts: string): Promise<string | undefined> {
    const res = await this.call(team, (c) => c.chat.getPermalink({ channel, message_ts: ts }));
    return res.permalink;
  }

  async timezoneOf(team: string, user: string): Promise<string | undefined> {
    const res = await this.call(team, (c) => c.users.info({ user }));
    return res.user?.tz;
  }
}

async function conversationKind(client: WebClient, channel: string): Promise<ConversationKind> {
  const c = (await client.conversations.info({ channel })).channel;
  if (!c) throw new Error(`conversations.info said nothing about ${channel}`);
  if (c.is_im) return 'im';
  if (c.is_mpim) return 'mpim';
  return c.is_private ? 'private' : 'public';
}

async function members(client: WebClient, channel: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await client.conversations.members({ channel, limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...(res.members ?? []));
    cursor = res.response_metadata?.next_cursor || undefined;
  } while (cursor);
  return out;
}
