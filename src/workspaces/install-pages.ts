import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Installation } from '@slack/bolt';

/** Bolt's OAuth callback error, as far as the failure page needs it. */
interface OAuthFailure {
  code?: string;
  message?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · donedone</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1d3557}
code{background:#f1f1f1;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The pages carry no scripts and are not to be framed.
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; img-src https://platform.slack-edge.com",
    'x-frame-options': 'DENY',
  });
  res.end(html);
}

/** `GET /slack/install`: what donedone does, and the *Add to Slack* button (Slack's authorize URL). */
export function installPage(url: string): string {
  return page(
    'Add donedone to Slack',
    `<p>donedone asks <em>How will we know it works in production?</em> when a feature is proposed,
records the answer as an expectation, and later posts actual usage against it.</p>
<p><a href="${escapeHtml(url)}"><img alt="Add to Slack" height="40" width="139"
src="https://platform.slack-edge.com/img/add_to_slack.png"
srcset="https://platform.slack-edge.com/img/add_to_slack.png 1x, https://platform.slack-edge.com/img/add_to_slack@2x.png 2x"></a></p>
<p>Or open <a href="${escapeHtml(url)}">this link</a> to add it.</p>`,
  );
}

/** The redirect's success page: what to do next. */
export function installedPage(
  installation: Installation<'v1' | 'v2', boolean>,
  _options: unknown,
  _req: IncomingMessage,
  res: ServerResponse,
): void {
  const where = installation.isEnterpriseInstall
    ? `every workspace of ${installation.enterprise?.name ?? 'your organisation'}`
    : (installation.team?.name ?? 'your workspace');
  send(
    res,
    200,
    page(
      'donedone is installed',
      `<p>donedone is now in ${escapeHtml(where)}. Next:</p>
<ol>
<li>Invite it to the channel where you plan features: <code>/invite @donedone</code>.</li>
<li>Type <code>/donedone help</code> there to see what it does, then propose a feature:
<code>/donedone propose Bulk export expect bulk_export_total &gt;= 200 per week within 30 days</code>.</li>
<li>Workspace admins can make an API token for deploy pipelines with <code>/donedone api-token</code>.</li>
</ol>
<p>You can close this page.</p>`,
    ),
  );
}

const REASONS: Record<string, string> = {
  slack_oauth_invalid_state:
    'The install link expired or was opened in another browser. Start again from the install page.',
  slack_oauth_missing_state: 'The link Slack sent back has no state. Start again from the install page.',
  slack_oauth_missing_code: 'Slack sent no authorization code. Start again from the install page.',
  slack_oauth_installer_authorization_error:
    'The installation was cancelled in Slack, so nothing was installed.',
};

/** The redirect's failure page: what went wrong in words, and the way back. Never a secret. */
export function installFailedPage(
  error: OAuthFailure,
  _options: unknown,
  _req: IncomingMessage,
  res: ServerResponse,
): void {
  const reason =
    (error.code && REASONS[error.code]) ??
    'Slack did not complete the installation (the code may have been used already or expired). Start again from the install page; if it keeps failing, ask whoever runs donedone to look at its logs.';
  send(
    res,
    error.code === 'slack_oauth_installer_authorization_error' ? 200 : 400,
    page(
      'donedone was not installed',
      `<p>${escapeHtml(reason)}</p>
<p><a href="/slack/install">Back to the install page</a></p>`,
    ),
  );
}
