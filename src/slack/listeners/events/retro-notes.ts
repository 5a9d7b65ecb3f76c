import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import { decodeSlackEntities } from '../../../domain/mentions';
import type { RetroService } from '../../../usecases/retro-service';

/** Subtypes that are still a person's reply (sent to the channel too, or with a file). */
const REPLY_SUBTYPES = new Set([undefined, 'thread_broadcast', 'file_share']);

/**
 * Replies in a retro's thread are kept as the feature's notes (`/donedone show` lists them). Only
 * replies whose thread is a retro message count; bots are ignored; Slack's retries store one note.
 */
export function register(app: App, deps: { retro: RetroService; log: Logger }): void {
  app.event('message', async ({ event, body }) => {
    if (!REPLY_SUBTYPES.has(event.subtype)) return;
    if ('bot_id' in event && event.bot_id) return;
    if (!('thread_ts' in event) || !event.thread_ts || event.thread_ts === event.ts) return;
    if (!('text' in event) || !event.text || !('user' in event) || !event.user) return;
    await deps.retro.addNote(body.team_id, event.channel, event.thread_ts, {
      user: event.user,
      // Slack escapes &, < and > in messages: stored as typed, escaped once where shown.
      text: decodeSlackEntities(event.text),
      ts: event.ts,
    });
  });
}
