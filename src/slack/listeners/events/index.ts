import type { App } from '@slack/bolt';
import { decodeSlackEntities } from '../../../domain/mentions';
import { MAX_TITLE } from '../../../domain/parse-command';
import { actingAs } from '../../../usecases/actor';
import { escapeMrkdwn, truncate } from '../../blocks/escape';
import { classifySlackFailure, slackErrorCode } from '../../slack-failure';
import type { ListenerDeps } from '../deps';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The title a planning message proposes, or null when it does not start with a proposal prefix. */
export function proposalTitle(text: string, prefixes: string[]): string | null {
  const re = new RegExp(`^\\s*(?:${prefixes.map(escapeRegExp).join('|')})\\s*(.*)`, 'i');
  const m = re.exec(text);
  if (!m) return null;
  const title = (m[1] ?? '').split('\n')[0]!.trim();
  return title ? truncate(title, MAX_TITLE) : null;
}

/**
 * Planning messages (`Proposal: …`, `Feature: …`) get the question as a threaded reply: the
 * feature's card. Slack retries events it thinks were lost; the message's channel and ts
 * key the work, so each message is handled once.
 */
function friendlyReason(err: unknown): string {
  return slackErrorCode(err) ?? 'Slack did not take the post';
}

export function register(app: App, deps: ListenerDeps): void {
  app.event('message', async ({ event, body, client, context }) => {
    if (event.subtype !== undefined || !('text' in event) || !event.text) return;
    if ('bot_id' in event && event.bot_id) return;
    if ('thread_ts' in event && event.thread_ts && event.thread_ts !== event.ts) return;
    const title = proposalTitle(decodeSlackEntities(event.text), deps.config.proposalPrefixes);
    if (!title) return;
    const team = body.team_id;
    try {
      const userId = event.user;
      await actingAs(userId, () =>
        deps.service.proposeFromMessage({ team, channel: event.channel, userId, title, ts: event.ts }),
      );
    } catch (err) {
      if (context.lastAttempt === true || classifySlackFailure(err) === 'permanent') {
        // No retry will come (the last try, or a refusal no retry can fix): tell the author
        // rather than lose the proposal silently.
        await client.chat
          .postMessage({
            channel: event.user,
            text: `:warning: I could not post the card for your proposal “${escapeMrkdwn(title)}” in <#${event.channel}> (${friendlyReason(err)}). Invite me there (\`/invite @donedone\`) and post it again, or use \`/donedone propose\`.`,
          })
          .catch((e) => deps.log.warn({ err: e }, 'could not tell the author'));
      }
      throw err;
    }
  });
}
