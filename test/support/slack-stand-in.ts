import { createServer, type IncomingMessage, type Server } from 'node:http';

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
      res.end(JSON.stringify(this.answer(method, body)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  private answer(method: string, body: Record<string, unknown>): Record<string, unknown> {
    const ts = `1793491200.${String(++this.seq).padStart(6, '0')}`;
    switch (method) {
      case 'auth.test':
        return { ok: true, team_id: 'T1', user_id: 'UBOT', bot_id: 'BBOT', url: 'https://acme.slack.com/' };
      case 'chat.postMessage':
        return { ok: true, channel: body.channel, ts, message: { text: body.text } };
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
        throw new Error(`timed out waiting; calls so far: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
