import type { AnyMiddlewareArgs, App, Middleware } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { guardAck } from '../slack/outgoing';
import { enqueueRequest, isQueued, type RequestJob } from './requests';

/**
 * What the web process answers in the acknowledgement: `ack` is sent as is (an ephemeral answer
 * to a command's mistake, a form's field errors); `enqueue: false` means the answer is all there
 * is to do. Decided from the request alone (grammar, form fields), never from Redis or an API.
 */
export interface AckDecision {
  ack?: Record<string, unknown> | string;
  enqueue: boolean;
}

export type AckDecider = (body: Record<string, unknown>) => AckDecision;

export interface IntakeDeps {
  queue: Queue<RequestJob>;
  log: Logger;
  /** Per request kind: slash commands by command name, view submissions by callback id. */
  deciders: { command?: AckDecider; view?: Record<string, AckDecider> };
  /** The acknowledgement of a command or an interaction that could not be queued: nothing was saved. */
  notTaken: Record<string, unknown> | string;
}

/** An event that could not be queued: the HTTP answer is an error, so Slack sends the event again. */
export class NotQueuedError extends Error {
  /** Coded, so Bolt hands it to the error handler as it is. */
  readonly code = 'donedone_not_queued';
  constructor(cause: unknown) {
    super('the Slack request could not be queued', { cause });
    this.name = 'NotQueuedError';
  }
}

/** Requests that must be answered in their own response with data: run where they arrive. */
function answeredInline(body: Record<string, unknown>): boolean {
  return body.type === 'block_suggestion';
}

/**
 * The web tier (PRODUCT.md "Many workspaces, many processes"): a global middleware that, for a
 * request straight from Slack, decides the acknowledgement from the request alone, acknowledges,
 * and queues the request for a worker; the listeners do not run here. The same app, fed from the
 * queue by a worker (`context.queued`), passes every request on to its listeners.
 */
export function intake(deps: IntakeDeps): Middleware<AnyMiddlewareArgs> {
  return async (middlewareArgs) => {
    const args = middlewareArgs as unknown as {
      body: Record<string, unknown>;
      context: Record<string, unknown>;
      next: () => Promise<void>;
      ack?: (response?: unknown) => Promise<void>;
    };
    const { body, context, next } = args;
    if (isQueued(context) || answeredInline(body)) {
      await next();
      return;
    }
    const receivedAt = Date.now();
    // Events are acknowledged by Bolt before any middleware; everything else here. Either way the
    // HTTP answer leaves only when this returns (the receiver's processBeforeResponse), after the
    // request is queued: an acknowledged request is never lost with the process that took it.
    const ack = typeof args.ack === 'function' ? args.ack : null;
    const decision = decide(body, deps.deciders);
    if (decision.enqueue) {
      try {
        await enqueueRequest(deps.queue, body, receivedAt);
      } catch (err) {
        deps.log.error({ err }, 'could not queue a Slack request');
        if (!ack) throw new NotQueuedError(err);
        await ack(deps.notTaken);
        return;
      }
    }
    if (ack) await ack(decision.ack === undefined ? undefined : guardAck(decision.ack));
  };
}

function decide(body: Record<string, unknown>, deciders: IntakeDeps['deciders']): AckDecision {
  if (typeof body.command === 'string') return deciders.command?.(body) ?? { enqueue: true };
  if (body.type === 'view_submission') {
    const view = body.view as { callback_id?: string } | undefined;
    const decider = view?.callback_id ? deciders.view?.[view.callback_id] : undefined;
    return decider?.(body) ?? { enqueue: true };
  }
  if (body.type === 'view_closed') return { enqueue: false };
  return { enqueue: true };
}

/** Installs the web tier's intake before every listener of `app`. */
export function useIntake(app: App, deps: IntakeDeps): void {
  app.use(intake(deps));
}
