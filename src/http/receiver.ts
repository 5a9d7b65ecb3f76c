import type { IncomingMessage } from 'node:http';
import { type CustomRoute, HTTPReceiver, type Logger } from '@slack/bolt';
import type { OAuthOptions } from '../workspaces';
import { sendJson } from './routes';

/** Slack's requests are small (a slash command is a few KB): anything over 1 MB is refused before parsing. */
export const SLACK_BODY_LIMIT = 1024 * 1024;

/**
 * Bolt's HTTP receiver with donedone's limits: request bodies over 1 MB get 413 before they are read
 * into memory (raw-body checks Content-Length first), and a path that cannot be decoded (`/api/features/%E0`)
 * is answered 400, not 500. With `oauth` (many workspaces) it also serves Bolt's install page
 * (`GET /slack/install`) and OAuth redirect (`GET /slack/oauth_redirect`), and authorizes each
 * request from the installation store.
 */
export function slackReceiver(opts: {
  signingSecret: string;
  customRoutes: CustomRoute[];
  logger: Logger;
  oauth?: OAuthOptions;
}): HTTPReceiver {
  return new HTTPReceiver({
    ...opts.oauth,
    signingSecret: opts.signingSecret,
    customRoutes: opts.customRoutes,
    logger: opts.logger,
    bodyLimit: SLACK_BODY_LIMIT,
    // The answer to Slack waits until the request is queued (src/tiers/intake.ts): whatever Slack
    // was told was taken is in Redis, even if this process dies the next instant; an event that
    // could not be queued gets a 500, so Slack sends it again.
    processBeforeResponse: true,
    dispatchErrorHandler: async ({ error, request, response }) => {
      if (error instanceof URIError) {
        sendJson(response, 400, { error: `The path ${safePath(request)} is not a valid URL path.` });
        return;
      }
      // As Bolt's own handler: 404 for a path nobody serves, 500 for anything else.
      const code = (error as { code?: string }).code;
      const status = code === 'slack_bolt_http_receiver_deferred_request_error' ? 404 : 500;
      if (status === 500) opts.logger.error(`HTTP request failed: ${error.message}`);
      if (!response.headersSent) response.writeHead(status);
      response.end();
    },
  });
}

function safePath(req: IncomingMessage): string {
  return JSON.stringify((req.url ?? '').split('?')[0]!.slice(0, 200));
}
