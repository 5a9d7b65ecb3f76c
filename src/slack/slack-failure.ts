import { UnrecoverableError } from 'bullmq';
import { slackErrorCode } from './poster';

/**
 * How a Web API failure should be met: `rate-limited` waits for Slack's Retry-After, `permanent`
 * cannot succeed by retrying (a channel the bot is not in, a revoked token, a malformed message),
 * `retryable` may (Slack's 5xx, a network failure, a time-out).
 */
export type SlackFailure = 'rate-limited' | 'permanent' | 'retryable';

/** Slack's error codes that no retry can fix. */
const PERMANENT = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'user_not_found',
  'cannot_dm_bot',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'team_access_not_granted',
  'restricted_action',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'invalid_arg_name',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'expired_trigger_id',
  'invalid_trigger_id',
]);

/** Sorts a failure of the Web API (or of the network on the way to it); null when it is not one. */
export function classifySlackFailure(err: unknown): SlackFailure | null {
  const e = err as { code?: string } | undefined;
  if (e?.code === 'slack_webapi_rate_limited_error') return 'rate-limited';
  const code = slackErrorCode(err);
  if (code) return PERMANENT.has(code) ? 'permanent' : 'retryable';
  if (e?.code === 'slack_webapi_request_error' || e?.code === 'slack_webapi_http_error') return 'retryable';
  return null;
}

/**
 * The error a job throws for `err`: a permanent Slack failure becomes BullMQ's
 * `UnrecoverableError` (the job fails at once instead of retrying for nothing); anything else is
 * rethrown for BullMQ's back-off.
 */
export function asJobError(err: unknown): unknown {
  if (err instanceof UnrecoverableError) return err;
  if (classifySlackFailure(err) === 'permanent') {
    const failure = new UnrecoverableError(`Slack refused for good: ${slackErrorCode(err)}`);
    failure.cause = err;
    return failure;
  }
  return err;
}

/**
 * How long Slack said to wait before calling again, for a rate-limited call: the WebClient's
 * `retryAfter` (seconds, from the `Retry-After` header) or a coded error's `retryAfterMs`;
 * null when `err` is not a rate limit. At least a second: Slack's header counts whole seconds.
 */
export function slackRetryAfterMs(err: unknown): number | null {
  if (classifySlackFailure(err) !== 'rate-limited') return null;
  const e = err as { retryAfter?: number; retryAfterMs?: number };
  if (typeof e.retryAfterMs === 'number') return Math.max(1000, e.retryAfterMs);
  return Math.max(1, e.retryAfter ?? 1) * 1000;
}
