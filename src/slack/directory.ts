import type { webApi } from '@slack/bolt';

/** What kind of conversation a feature was proposed in: only `public` features are seen by everyone. */
export type ConversationKind = 'public' | 'private' | 'im' | 'mpim';

/** What donedone asks Slack about people and conversations (conversations.info/members, users.info). */
export interface Directory {
  conversationKind(team: string, channel: string): Promise<ConversationKind>;
  members(team: string, channel: string): Promise<string[]>;
  isWorkspaceAdmin(team: string, user: string): Promise<boolean>;
}

/** The Directory over a WebClient (the bot's token). Failures throw; the caller decides what they mean. */
export function slackDirectory(client: webApi.WebClient): Directory {
  return {
    async conversationKind(_team, channel) {
      const res = await client.conversations.info({ channel });
      const c = res.channel;
      if (!c) throw new Error(`conversations.info said nothing about ${channel}`);
      if (c.is_im) return 'im';
      if (c.is_mpim) return 'mpim';
      return c.is_private ? 'private' : 'public';
    },
    async members(_team, channel) {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await client.conversations.members({
          channel,
          limit: 1000,
          ...(cursor ? { cursor } : {}),
        });
        out.push(...(res.members ?? []));
        cursor = res.response_metadata?.next_cursor || undefined;
      } while (cursor);
      return out;
    },
    async isWorkspaceAdmin(_team, user) {
      const res = await client.users.info({ user });
      const u = res.user;
      return Boolean(u?.is_admin || u?.is_owner || u?.is_primary_owner);
    },
  };
}
