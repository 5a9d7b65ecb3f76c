import { createServer, type IncomingMessage, type Server } from 'node:http';

/** A workspace (or an Enterprise Grid org) that may install the app through oauth.v2.access. */
export interface Grant {
  team?: string;
  teamName?: string;
  enterprise?: string;
  /** An org-wide install on Enterprise Grid: keyed by the enterprise, no team. */
  orgWide?: boolean;
}

/** A bot token the stand-in issued, and whose it is (auth.test answers with it). */
interface IssuedToken {
  team?: string;
  enterprise?: string;
  botUserId: string;
  botId: string;
  revoked?: boolean;
}

export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
  token?: string;
  /** When it arrived (ms since the epoch). */
  at?: number;
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return raw ? JSON.parse(raw) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // The WebClient form-encodes objects as JSON strings.
    out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
  }
  return out;
}

/** A whole request body as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => resolve(data));
  });
}

/**
 * A local stand-in for Slack's Web API and response URLs: it answers as Slack does and
 * records what the bot said, so tests assert on what a user would see.
 */
export class SlackStandIn {
  readonly calls: RecordedCall[] = [];
  /** Messages posted with chat.postMessage: where they landed, and their metadata (for conversations.replies). */
  private readonly posted: { channel: string; ts: string; thread?: unknown; metadata?: unknown }[] = [];
  /** Calls answered with a failure set by `fail` (not in `calls`), with when they arrived. */
  readonly refused: { method: string; status: number; body: Record<string, unknown>; at: number }[] = [];
  /** Answers posted to response URLs, with when they arrived (ms since the epoch). */
  readonly responses: { id: string; body: Record<string, unknown>; at?: number }[] = [];
  private server: Server | undefined;
  private seq = 0;
  private failures = new Map<
    string,
    { error?: string; status?: number; retryAfter?: number; times: number }
  >();
  url = '';
  /**
   * Conversations the workspace has, for conversations.info and conversations.members. A channel not
   * listed is an ordinary public channel that nobody in particular is in.
   */
  readonly conversations = new Map<
    string,
    { kind: 'public' | 'private' | 'im' | 'mpim'; members: string[] }
  >();
  /** People's roles, for users.info (absent: an ordinary member). */
  readonly people = new Map<string, { admin?: boolean; owner?: boolean }>();
  /** OAuth: codes Slack would hand the redirect, each good once; the tokens issued for them. */
  private readonly grants = new Map<string, Grant>();
  readonly issued = new Map<string, IssuedToken>();
  /** Socket Mode: the WebSocket URL apps.connections.open hands out. */
  socketUrl: string | undefined;
  /** The app's credentials oauth.v2.access accepts (set by a test of many workspaces). */
  client: { id: string; secret: string } | undefined;

  /** A code for the redirect that installs the app in `grant`'s workspace (or org). */
  grant(code: string, grant: Grant): void {
    this.grants.set(code, grant);
  }

  /** Every later call with this token is refused as Slack does after an uninstall. */
  revoke(token: string): void {
    const t = this.issued.get(token);
    if (t) t.revoked = true;
  }

  /** The bot token issued to a team (or an enterprise's org-wide install). */
  tokenOf(owner: { team?: string; enterprise?: string }): string | undefined {
    for (const [token, t] of this.issued) {
      if (owner.team !== undefined && t.team === owner.team) return token;
      if (
        owner.team === undefined &&
        owner.enterprise !== undefined &&
        t.enterprise === owner.enterprise &&
        !t.team
      )
        return token;
    }
    return undefined;
  }

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const raw = await readBody(req);
      const path = req.url ?? '';
      // Uploaded bytes are not a form: parsing a PNG that happens to start with `[` or `{` would throw.
      if (path.startsWith('/upload/')) {
        this.calls.push({ method: 'upload', body: { path, bytes: raw.length } });
        res.writeHead(200).end('OK');
        return;
      }
      const body = parseBody(raw, req.headers['content-type']);
      if (path.startsWith('/response/')) {
        this.responses.push({ id: path.slice('/response/'.length), body, at: Date.now() });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const method = path.replace(/^\/api\//, '').split('?')[0]!;
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      const failure = this.failures.get(method);
      if (failure && failure.times > 0) {
        failure.times--;
        this.refused.push({ method, status: failure.status ?? 200, body, at: Date.now() });
        if (failure.status === 429) {
          res.writeHead(429, {
            'retry-after': String(failure.retryAfter ?? 1),
            'content-type': 'application/json',
          });
          res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
          return;
        }
        res.writeHead(failure.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: failure.error ?? 'internal_error' }));
        return;
      }
      this.calls.push({ method, body, ...(token ? { token } : {}), at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' });
      const issued = token ? this.issued.get(token) : undefined;
      if (issued?.revoked) {
        res.end(JSON.stringify({ ok: false, error: 'token_revoked' }));
        return;
      }
      res.end(JSON.stringify(this.answer(method, body, issued)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  private answer(
    method: string,
    body: Record<string, unknown>,
    issued?: IssuedToken,
  ): Record<string, unknown> {
    const ts = `1793491200.${String(++this.seq).padStart(6, '0')}`;
    switch (method) {
      case 'auth.test':
        if (issued) {
          return {
            ok: true,
            team_id: issued.team,
            ...(issued.enterprise ? { enterprise_id: issued.enterprise } : {}),
            user_id: issued.botUserId,
            bot_id: issued.botId,
            url: `https://${(issued.team ?? issued.enterprise ?? 'x').toLowerCase()}.slack.com/`,
          };
        }
        return { ok: true, team_id: 'T1', user_id: 'UBOT', bot_id: 'BBOT', url: 'https://acme.slack.com/' };
      case 'oauth.v2.access':
        return this.exchange(body);
      case 'apps.connections.open':
        return this.socketUrl ? { ok: true, url: this.socketUrl } : { ok: false, error: 'invalid_auth' };
      case 'chat.postMessage':
        this.posted.push({
          channel: String(body.channel),
          ts,
          thread: body.thread_ts,
          metadata: body.metadata,
        });
        return { ok: true, channel: body.channel, ts, message: { text: body.text } };
      case 'conversations.replies': {
        // The thread's replies as posted, metadata included when asked for (include_all_metadata).
        const replies = this.posted.filter((m) => m.channel === body.channel && m.thread === body.ts);
        const all = String(body.include_all_metadata) === 'true';
        return {
          ok: true,
          messages: replies.map((m) => ({
            ts: m.ts,
            ...(all && m.metadata ? { metadata: m.metadata } : {}),
          })),
          has_more: false,
        };
      }
      case 'chat.update':
        return { ok: true, channel: body.channel, ts: body.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: ts };
      case 'views.open':
      case 'views.publish':
        return { ok: true, view: { id: `V${this.seq}` } };
      case 'chat.getPermalink':
        return {
          ok: true,
          permalink: `https://acme.slack.com/archives/${body.channel}/p${String(body.message_ts).replace('.', '')}`,
        };
      case 'users.info': {
        const person = this.people.get(String(body.user)) ?? {};
        return {
          ok: true,
          user: {
            id: body.user,
            tz: 'Europe/Berlin',
            is_admin: Boolean(person.admin || person.owner),
            is_owner: Boolean(person.owner),
          },
        };
      }
      case 'conversations.info': {
        const c = this.conversations.get(String(body.channel));
        const kind = c?.kind ?? 'public';
        return {
          ok: true,
          channel: {
            id: body.channel,
            is_channel: kind === 'public',
            is_group: kind === 'private',
            is_im: kind === 'im',
            is_mpim: kind === 'mpim',
            is_private: kind !== 'public',
          },
        };
      }
      case 'conversations.members': {
        // Slack may answer fewer members than asked for: pages of two, so the bot must follow next_cursor.
        const members = this.conversations.get(String(body.channel))?.members ?? [];
        const limit = Math.min(Number(body.limit ?? 100), 2);
        const start = Number(body.cursor ?? 0);
        const next = start + limit < members.length ? String(start + limit) : '';
        return {
          ok: true,
          members: members.slice(start, start + limit),
          response_metadata: { next_cursor: next },
        };
      }
      case 'files.getUploadURLExternal':
        return { ok: true, upload_url: `${this.url}/upload/F${this.seq}`, file_id: `F${this.seq}` };
      case 'files.completeUploadExternal':
        return { ok: true, files: [{ id: 'F1', title: 'chart' }] };
      default:
        return { ok: true };
    }
  }

  /** oauth.v2.access: a code good once, for the app's own credentials, gives a bot token. */
  private exchange(body: Record<string, unknown>): Record<string, unknown> {
    if (this.client && (body.client_id !== this.client.id || body.client_secret !== this.client.secret)) {
      return { ok: false, error: 'invalid_client_id' };
    }
    const grant = this.grants.get(String(body.code));
    if (!grant) return { ok: false, error: 'invalid_code' };
    this.grants.delete(String(body.code));
    const owner = grant.orgWide ? grant.enterprise : grant.team;
    const token = `xoxb-${owner}-${String(++this.seq).padStart(4, '0')}-${Math.random().toString(36).slice(2, 12)}`;
    const bot = { botUserId: `UBOT${owner}`, botId: `BBOT${owner}` };
    this.issued.set(token, {
      ...bot,
      ...(grant.orgWide ? {} : { team: grant.team }),
      ...(grant.enterprise ? { enterprise: grant.enterprise } : {}),
    });
    return {
      ok: true,
      app_id: 'A1',
      authed_user: { id: 'UINSTALLER' },
      scope: 'commands,chat:write',
      token_type: 'bot',
      access_token: token,
      bot_user_id: bot.botUserId,
      team: grant.orgWide ? null : { id: grant.team, name: grant.teamName ?? grant.team },
      enterprise: grant.enterprise ? { id: grant.enterprise, name: `Org ${grant.enterprise}` } : null,
      is_enterprise_install: grant.orgWide === true,
    };
  }

  /** Makes the next `times` calls of `method` fail, as Slack would (`times: 0` ends a failure set before). */
  fail(
    method: string,
    failure: { error?: string; status?: number; retryAfter?: number; times?: number },
  ): void {
    this.failures.set(method, { ...failure, times: failure.times ?? 1 });
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
  }

  /** Waits until `predicate` holds over the recorded calls (the bot works after acknowledging). */
  async waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting; calls so far: ${this.calls.map((c) => c.method).join(', ')}; ` +
            `response_url answers: ${this.responses.map((r) => JSON.stringify(r.body.text ?? r.body)).join(' | ') || 'none'}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
