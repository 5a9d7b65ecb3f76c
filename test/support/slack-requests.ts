import { createHmac, randomBytes } from 'node:crypto';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';

/** Slack's v0 request signature over `v0:{timestamp}:{body}`. */
export function sign(
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
  secret = SIGNING_SECRET,
): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

export interface SlackClientOptions {
  botUrl: string;
  responseBase: string;
  team?: string;
  /** Enterprise Grid: the enterprise the team belongs to, and whether the app is installed org-wide. */
  enterprise?: string;
  orgWide?: boolean;
}

/** Sends requests to the bot the way Slack does: signed, in Slack's content types. */
export class FakeSlack {
  private n = 0;
  private readonly instance = randomBytes(4).toString('hex');
  /** The last request sent, exactly as signed: `replay()` sends it again. */
  private last: { body: string; headers: Record<string, string> } | undefined;
  constructor(private readonly opts: SlackClientOptions) {}

  private async post(
    body: string,
    contentType: string,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const all = { 'content-type': contentType, ...sign(body), ...headers };
    this.last = { body, headers: all };
    return fetch(`${this.opts.botUrl}/slack/events`, { method: 'POST', headers: all, body });
  }

  /** Sends the last request again, byte for byte with its signature: what an attacker who saw it could do. */
  async replay(): Promise<Response> {
    if (!this.last) throw new Error('nothing to replay');
    return fetch(`${this.opts.botUrl}/slack/events`, {
      method: 'POST',
      headers: this.last.headers,
      body: this.last.body,
    });
  }

  /** Posts any body, signed, to the bot (e.g. an oversized one). */
  async raw(body: string | Uint8Array, contentType = 'application/x-www-form-urlencoded'): Promise<Response> {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString();
    return fetch(`${this.opts.botUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...sign(text) },
      body: text,
    });
  }

  /** A slash command; returns the HTTP response and the response_url id it carried. */
  async command(
    text: string,
    user = 'U1',
    channel = 'C1',
  ): Promise<{ res: Response; body: string; responseId: string }> {
    // Unique across FakeSlacks (one per workspace in a test), as Slack's response URLs are.
    const responseId = `r${++this.n}-${this.instance}`;
    const form = new URLSearchParams({
      token: 'legacy',
      team_id: this.opts.team ?? 'T1',
      team_domain: 'acme',
      ...(this.opts.enterprise
        ? { enterprise_id: this.opts.enterprise, is_enterprise_install: String(this.opts.orgWide === true) }
        : {}),
      channel_id: channel,
      channel_name: 'planning',
      user_id: user,
      user_name: 'maria',
      command: '/donedone',
      text,
      api_app_id: 'A1',
      response_url: `${this.opts.responseBase}/response/${responseId}`,
      // Unique, as Slack's are: a restarted bot's FakeSlack must not reuse an earlier one's (replays are ignored).
      trigger_id: `trigger-${this.instance}-${this.n}`,
    }).toString();
    const res = await this.post(form, 'application/x-www-form-urlencoded');
    return { res, body: await res.text(), responseId };
  }

  /** An interactive payload (block_actions, view_submission, message_action). */
  async interactive(payload: Record<string, unknown>): Promise<{ res: Response; body: string }> {
    const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await this.post(form, 'application/x-www-form-urlencoded');
    return { res, body: await res.text() };
  }

  async event(event: Record<string, unknown>, eventId: string, retryNum?: number): Promise<Response> {
    const body = JSON.stringify({
      token: 'legacy',
      team_id: this.opts.team ?? 'T1',
      ...(this.opts.enterprise ? { enterprise_id: this.opts.enterprise } : {}),
      authorizations: [
        {
          ...(this.opts.enterprise ? { enterprise_id: this.opts.enterprise } : {}),
          team_id: this.opts.orgWide ? null : (this.opts.team ?? 'T1'),
          user_id: 'UBOT',
          is_bot: true,
          is_enterprise_install: this.opts.orgWide === true,
        },
      ],
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      event,
    });
    const headers: Record<string, string> = retryNum
      ? { 'x-slack-retry-num': String(retryNum), 'x-slack-retry-reason': 'http_timeout' }
      : {};
    return this.post(body, 'application/json', headers);
  }

  user(id = 'U1') {
    return { id, username: 'maria', name: 'maria', team_id: this.opts.team ?? 'T1' };
  }

  team() {
    return { id: this.opts.team ?? 'T1', domain: 'acme' };
  }
}
