import { randomBytes } from 'node:crypto';
import { neutraliseMentions } from '../domain/mentions';

/** A feature id as a button carries it, optionally stamped with the install's epoch: `F-3|a1b2c3d4`. */
const BUTTON_VALUE = /^(F-\d+)(?:\|([0-9a-f]+))?$/i;

/** Splits a button value into the feature id and the epoch it was stamped with (absent on older cards). */
export function readButtonValue(value: string): { id: string; epoch?: string } | null {
  const m = BUTTON_VALUE.exec(value);
  if (!m) return null;
  return m[2] ? { id: m[1]!, epoch: m[2] } : { id: m[1]! };
}

/** Appends the epoch to every button whose value is a bare feature id; neutralises special mentions in strings. */
function walk(value: unknown, epoch: string | undefined): unknown {
  if (typeof value === 'string') return neutraliseMentions(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, epoch));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, epoch);
    if (epoch && out.type === 'button' && typeof out.value === 'string' && /^F-\d+$/i.test(out.value)) {
      out.value = `${out.value}|${epoch}`;
    }
    return out;
  }
  return value;
}

function rewriteJsonText(text: string, epoch: string | undefined): string {
  try {
    return JSON.stringify(walk(JSON.parse(text), epoch));
  } catch {
    return neutraliseMentions(text);
  }
}

/**
 * An acknowledgement's body, made safe: the one way out to Slack that is an HTTP response, not a
 * request through the clients' fetch (a command's mistake, a form's field errors).
 */
export function guardAck<T>(response: T): T {
  return walk(response, undefined) as T;
}

/** The body of one outgoing request, made safe; anything that is not text (file bytes) passes as it is. */
export function guardBody(body: unknown, contentType: string, epoch: string | undefined): unknown {
  if (typeof body !== 'string') {
    if (body instanceof URLSearchParams)
      return guardBody(body.toString(), 'application/x-www-form-urlencoded', epoch);
    if (body instanceof FormData) {
      // A file upload: the bytes pass as they are, its text fields (title, comment) are made safe.
      const out = new FormData();
      for (const [k, v] of body) out.append(k, typeof v === 'string' ? neutraliseMentions(v) : v);
      return out;
    }
    return body;
  }
  if (contentType.includes('application/json')) {
    return nothingToGuard(body, epoch) ? body : rewriteJsonText(body, epoch);
  }
  if (contentType.includes('application/x-www-form-urlencoded')) {
    if (nothingToGuard(formText(body), epoch)) return body;
    const params = new URLSearchParams(body);
    const out = new URLSearchParams();
    for (const [k, v] of params) {
      // The WebClient sends blocks, views and attachments as JSON text inside the form.
      out.append(k, /^[[{]/.test(v) ? rewriteJsonText(v, epoch) : neutraliseMentions(v));
    }
    return out.toString();
  }
  return body;
}

/**
 * True when `text` can hold neither a special mention (every one starts with `<!`, which JSON may
 * also write as `\u003c!`) nor, when stamping, a feature button's value: the body goes out as it
 * is, without being parsed and written again (most thread posts and answers).
 */
function nothingToGuard(text: string | null, epoch: string | undefined): boolean {
  if (text === null) return false;
  if (/<!|\\u003c/i.test(text)) return false;
  return !(epoch && /"value"\s*:\s*"F-\d+"/i.test(text));
}

/** A form body's text as its fields read (percent-decoding, `+` as space); null if it is not valid. */
function formText(body: string): string | null {
  try {
    return decodeURIComponent(body.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function contentTypeOf(headers: RequestInit['headers']): string {
  if (!headers) return '';
  if (headers instanceof Headers) return headers.get('content-type') ?? '';
  if (Array.isArray(headers)) {
    return headers.find(([k]) => k?.toLowerCase() === 'content-type')?.[1] ?? '';
  }
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'content-type') return String(v);
  return '';
}

/**
 * The one door every request to Slack goes through (every WebClient, and Bolt's `respond`, take it as
 * `fetch`): no user text can ping a channel (`<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>` in
 * blocks, fallback text, views and DMs alike), and buttons that carry a feature id carry the install's
 * epoch, so a store that was reset never acts on a reused id.
 */
export function guardedFetch(base: typeof fetch, epoch: () => Promise<string | undefined>): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    if (!init?.body) return base(input, init);
    const contentType = contentTypeOf(init.headers);
    // Stamped with a placeholder first: the epoch is read from Redis only when a button needs it
    // (a card, not a thread post or an answer), and written in where the placeholder stands.
    let body = guardBody(init.body, contentType, EPOCH_PLACEHOLDER) as RequestInit['body'];
    if (typeof body === 'string' && body.includes(EPOCH_PLACEHOLDER)) {
      const stamp = await epoch().catch(() => undefined);
      body = stamp
        ? body.replaceAll(EPOCH_PLACEHOLDER, stamp)
        : (guardBody(init.body, contentType, undefined) as RequestInit['body']);
    }
    return base(input, { ...init, body });
  }) as typeof fetch;
}

/**
 * Stands for the epoch in a body until it is known: hex, like an epoch, so neither JSON nor form
 * encoding changes it, and random per process, so no text a person wrote can hold it.
 */
const EPOCH_PLACEHOLDER = randomBytes(12).toString('hex');
