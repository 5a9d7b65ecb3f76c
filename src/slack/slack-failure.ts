import { UnrecoverableError } from 'bullmq';

/**
 * How a Web API failure should be met: `rate-limited` waits for Slack's Retry-After, `permanent`
 * cannot succeed by retrying (a channel the bot is not in, a revoked token, a malformed message),
 * `retryable` may (Slack's 5xx, a network failure, a time-out).
 */
export type SlackFailure = 'rate-limited' | 'permanent' | 'retryable';

/**
 * A Web API call that failed, sorted once: `rate-limited` carries Slack's Retry-After,
 * `permanent` cannot succeed by retrying (a channel the bot is not in, a workspace that
 * uninstalled donedone), `retryable` may (Slack's 5xx, the network).
 */
export class SlackError extends Error {
  constructor(
    readonly kind: SlackFailure,
    /** Slack's error code (`not_in_channel`), or ours: `workspace_not_installed`, `network`. */
    readonly code: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`Slack: ${code}`, options);
    this.name = 'SlackError';
  }
}

/** The workspace has no installation (uninstalled, tokens revoked, or another workspace than the token's). */
export const NOT_INSTALLED = 'workspace_not_installed';

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

/** The Slack error code of a failed Web API call, e.g. `not_in_channel`. */
export function slackErrorCode(err: unknown): string | undefined {
  if (err instanceof SlackError) return err.code;
  return (err as { data?: { error?: string } })?.data?.error;
}

/** How long Slack asked to wait before calling again, when it rate-limited the call; else null. */
export function retryAfterMs(err: unknown): number | null {
  if (err instanceof SlackError) return err.kind === 'rate-limited' ? (err.retryAfterMs ?? 1000) : null;
  const e = err as { code?: string; retryAfter?: number };
  return e?.code === 'slack_webapi_rate_limited_error' ? Math.max(1, e.retryAfter ?? 1) * 1000 : null;
}

/** Sorts a failure of the Web API (or of the network on the way to it); null when it is not one. */
export function classifySlackFailure(err: unknown): SlackFailure | null {
  if (err instanceof SlackError) return err.kind;
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

/** `err` as a `SlackError` when it is a failure of the Web API; anything else as it is. */
export function asSlackError(err: unknown): unknown {
  if (err instanceof SlackError) return err;
  const kind = classifySlackFailure(err);
  if (!kind) return err;
  const e = err as { retryAfter?: number };
  if (kind === 'rate-limited') {
    return new SlackError(kind, 'ratelimited', Math.max(1, e.retryAfter ?? 1) * 1000, { cause: err });
  }
  return new SlackError(kind, slackErrorCode(err) ?? 'network', undefined, { cause: err });
}
