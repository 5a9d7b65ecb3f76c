import { webApi } from '@slack/bolt';
import type { Feature } from '../domain/model';
import type { Workspaces } from '../workspaces/types';
import type { Message } from './blocks/card-blocks';
import { cardMessage } from './blocks/card-blocks';
import { asSlackError, NOT_INSTALLED, SlackError } from './slack-failure';

type WebClient = webApi.WebClient;

/** The metadata event type of donedone's thread posts: its payload's `key` is the post's effect key. */
const POST_METADATA = 'donedone_post';

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
  /**
   * Posts in the feature's thread; returns the message ts (undefined when the feature has no card).
   * `effectKey` goes in the message's metadata, so a post can be found again (`findInThread`).
   */
  inThread(feature: Feature, message: Message, effectKey?: string): Promise<string | undefined>;
  /** The ts of the thread reply whose metadata carries `effectKey`, or null (conversations.replies). */
  findInThread(team: string, channel: string, threadTs: string, effectKey: string): Promise<string | null>;
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

/**
 * One WebClient for every workspace, each call carrying its workspace's token (the Web API's `token`
 * argument). A WebClient per token held about 30 KB of bound methods each and kept every decrypted
 * token in memory: with 1,000 workspaces that was most of a worker's heap.
 */
/** The Slack port over the Web API. */
export class WebApiPort implements SlackPort {
  private readonly client: WebClient;
  readonly directory: Directory;

  constructor(private readonly opts: SlackPortOptions) {
    this.client = new webApi.WebClient(undefined, opts.clientOptions);
    this.directory = {
      conversationKind: (team, channel) => this.call(team, (c, token) => conversationKind(c, token, channel)),
      members: (team, channel) => this.call(team, (c, token) => members(c, token, channel)),
      isWorkspaceAdmin: (team, user) =>
        this.call(team, async (c, token) => {
          const u = (
            await c.users.info({
              token,
              user,
            })
          ).user;
          return Boolean(u?.is_admin || u?.is_owner || u?.is_primary_owner);
        }),
    };
  }

  /** Runs `fn` with the workspace's client; every failure leaves as a `SlackError`. */
  private async call<T>(team: string, fn: (client: WebClient, token: string) => Promise<T>): Promise<T> {
    const installed = await this.opts.workspaces.installed({ team });
    if (!installed) throw new SlackError('permanent', NOT_INSTALLED);
    try {
      return await fn(this.client, installed.botToken);
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

  async inThread(feature: Feature, message: Message, effectKey?: string): Promise<string | undefined> {
    if (!feature.channel || !feature.cardTs) return undefined;
    const { channel, cardTs, team } = feature;
    const res = await this.call(team, (c, token) =>
      c.chat.postMessage({
        token,
        channel,
        thread_ts: cardTs,
        text: message.text,
        blocks: asFormField(message.blocks),
        unfurl_links: false,
        ...(effectKey ? { metadata: { event_type: POST_METADATA, event_payload: { key: effectKey } } } : {}),
      }),
    );
    return res.ts as string | undefined;
  }

  async findInThread(
    team: string,
    channel: string,
    threadTs: string,
    effectKey: string,
  ): Promise<string | null> {
    return this.call(team, async (c, token) => {
      let cursor: string | undefined;
      do {
        const res = await c.conversations.replies({
          token,
          channel,
          ts: threadTs,
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        for (const m of res.messages ?? []) {
          const meta = (m as { metadata?: { event_type?: string; event_payload?: { key?: unknown } } })
            .metadata;
          if (meta?.event_type === POST_METADATA && meta.event_payload?.key === effectKey)
            return m.ts ?? null;
        }
        cursor = res.response_metadata?.next_cursor || undefined;
      } while (cursor);
      return null;
    });
  }

  async dm(team: string, user: string, message: Message): Promise<void> {
    await this.call(team, (c, token) =>
      c.chat.postMessage({
        token,
        channel: user,
        text: message.text,
        blocks: asFormField(message.blocks),
      }),
    );
  }

  async post(
    team: string,
    channel: string,
    message: Message,
    threadTs?: string,
  ): Promise<{ channel: string; ts: string }> {
    const res = await this.call(team, (c, token) =>
      c.chat.postMessage({
        token,
        channel,
        text: message.text,
        blocks: asFormField(message.blocks),
        unfurl_links: false,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      }),
    );
    return { channel: (res.channel as string | undefined) ?? channel, ts: res.ts as string };
  }

  async update(team: string, channel: string, ts: string, message: Message): Promise<void> {
    await this.call(team, (c, token) =>
      c.chat.update({
        token,
        channel,
        ts,
        text: message.text,
        blocks: asFormField(message.blocks),
      }),
    );
  }

  async upload(team: string, f: UploadArgs): Promise<void> {
    await this.call(team, (c, token) =>
      c.files.uploadV2({
        token,
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
    const res = await this.call(team, (c, token) =>
      c.chat.getPermalink({
        token,
        channel,
        message_ts: ts,
      }),
    );
    return res.permalink;
  }

  async timezoneOf(team: string, user: string): Promise<string | undefined> {
    const res = await this.call(team, (c, token) =>
      c.users.info({
        token,
        user,
      }),
    );
    return res.user?.tz;
  }
}

async function conversationKind(
  client: WebClient,
  token: string,
  channel: string,
): Promise<ConversationKind> {
  const c = (await client.conversations.info({ token, channel })).channel;
  if (!c) throw new Error(`conversations.info said nothing about ${channel}`);
  if (c.is_im) return 'im';
  if (c.is_mpim) return 'mpim';
  return c.is_private ? 'private' : 'public';
}

async function members(client: WebClient, token: string, channel: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await client.conversations.members({
      token,
      channel,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    out.push(...(res.members ?? []));
    cursor = res.response_metadata?.next_cursor || undefined;
  } while (cursor);
  return out;
}

/**
 * Blocks as the JSON text the Web API's form body carries. The WebClient would write the same text
 * itself, but first walks every block of every call to redact it for a debug line it builds even
 * when debug logging is off: about 60 µs of CPU a post or update (measured with a card), most of a
 * check's Slack cost in `bench:checks`. Text passes that walk as one value.
 */
function asFormField(blocks: readonly unknown[]): never {
  return JSON.stringify(blocks) as never;
}
