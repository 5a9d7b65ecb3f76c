import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

/**
 * `fetch` for the calls donedone makes all day (Slack's Web API and response_url, telemetry
 * queries) over `node:http(s)` with keep-alive agents. Node 20's built-in fetch spends about
 * 0.4 ms of CPU more per call on its web streams and abort machinery (measured on this project's
 * machine: 577 against 200 µs a call, client and server together); at a post or an answer per
 * request that was a tenth of a worker's CPU. It behaves as fetch does for what we send: string,
 * byte and URLSearchParams bodies, headers, `signal` (rejecting with its reason, so a time-out is
 * still a `TimeoutError`), redirects followed, compressed answers decoded, and a network failure
 * rejected as fetch's `TypeError('fetch failed')` with the system error as its `cause`. Anything
 * else (a `Request` object, FormData or stream bodies: file uploads) goes to the built-in fetch.
 */
export function createNodeFetch(
  options: { base?: typeof fetch; maxSockets?: number; freeSocketMs?: number } = {},
): typeof fetch {
  const base = options.base ?? globalThis.fetch;
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 64,
    // A kept socket is closed before a typical server's own 5 s idle time-out closes it under us.
    timeout: options.freeSocketMs ?? 4_000,
  };
  const agents = { 'http:': new HttpAgent(agentOptions), 'https:': new HttpsAgent(agentOptions) };

  const self = (async (input: Parameters<typeof fetch>[0], init: RequestInit = {}) => {
    // openapi-fetch hands a Request: its parts, read once (a telemetry query's body is small).
    if (input instanceof Request) {
      const headers = new Headers(input.headers);
      for (const [k, v] of new Headers(init.headers)) headers.set(k, v);
      const body = init.body ?? (input.body ? Buffer.from(await input.arrayBuffer()) : undefined);
      return self(input.url, {
        method: init.method ?? input.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        redirect: init.redirect ?? input.redirect,
        signal: init.signal ?? input.signal,
      });
    }
    const body = bodyOf(init.body);
    if (body === undefined) return base(input, init);
    let url = new URL(String(input));
    let method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    let payload = body.data;
    if (body.contentType && !headers.has('content-type')) headers.set('content-type', body.contentType);
    if (!headers.has('accept')) headers.set('accept', '*/*');
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'gzip, deflate, br');
    for (let redirects = 0; ; redirects++) {
      const res = await send(url, method, headers, payload, init.signal ?? undefined);
      const location = res.headers.location;
      if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
        if (init.redirect === 'manual') return toResponse(res, method, url);
        res.resume();
        if (init.redirect === 'error' || redirects >= 20)
          throw new TypeError('fetch failed', { cause: new Error('redirect refused or too many redirects') });
        const next = new URL(location, url);
        if (
          res.statusCode === 303 ||
          ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')
        ) {
          method = 'GET';
          payload = null;
          headers.delete('content-type');
        }
        if (next.origin !== url.origin) headers.delete('authorization');
        url = next;
        continue;
      }
      return toResponse(res, method, url);
    }
  }) as typeof fetch;
  return self;

  function send(
    url: URL,
    method: string,
    headers: Headers,
    payload: Buffer | null,
    signal: AbortSignal | undefined,
    retried = false,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const protocol = url.protocol as 'http:' | 'https:';
      const requestFn = protocol === 'https:' ? httpsRequest : protocol === 'http:' ? httpRequest : null;
      if (!requestFn)
        return reject(new TypeError('fetch failed', { cause: new Error(`unsupported ${protocol}`) }));
      const outgoing: Record<string, string> = {};
      for (const [k, v] of headers) outgoing[k] = v;
      if (payload) outgoing['content-length'] = String(payload.length);
      const req = requestFn(url, { method, headers: outgoing, agent: agents[protocol] });
      const onAbort = () => req.destroy(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('response', (res) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(res);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return reject(signal.reason);
        // A kept-alive socket the server closed just as we reused it: the request never arrived.
        if (req.reusedSocket && !retried && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          send(url, method, headers, payload, signal, true).then(resolve, reject);
          return;
        }
        reject(new TypeError('fetch failed', { cause: err }));
      });
      req.end(payload ?? undefined);
    });
  }
}

/** The body as bytes and its default content type; undefined when this fetch does not handle it. */
function bodyOf(body: RequestInit['body']): { data: Buffer | null; contentType?: string } | undefined {
  if (body === undefined || body === null) return { data: null };
  if (typeof body === 'string') return { data: Buffer.from(body), contentType: 'text/plain;charset=UTF-8' };
  if (body instanceof URLSearchParams)
    return {
      data: Buffer.from(body.toString()),
      contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
    };
  if (body instanceof Uint8Array) return { data: Buffer.from(body.buffer, body.byteOffset, body.byteLength) };
  if (body instanceof ArrayBuffer) return { data: Buffer.from(body) };
  return undefined;
}

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

async function toResponse(res: IncomingMessage, method: string, url: URL): Promise<Response> {
  let data = await readAll(res);
  const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
  const decode = decoders[encoding];
  if (decode && data.length > 0) {
    try {
      data = await decode(data);
    } catch (err) {
      throw new TypeError('fetch failed', { cause: err });
    }
  }
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2)
    headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 0;
  const empty = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  return new BufferedResponse(empty ? null : data, url.toString(), {
    status,
    statusText: res.statusMessage ?? '',
    headers,
  }) as unknown as Response;
}

/** The whole body of an answer (events, not an async iterator: this runs for every call). */
function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    res.once('error', reject);
    res.once('aborted', () => reject(new TypeError('fetch failed', { cause: new Error('aborted') })));
  });
}

/**
 * A `Response` whose body is already in memory. The built-in one wraps every body in a web
 * stream (most of the CPU a call costs here, measured with the ack bench's worker profile);
 * this one is a real `Response` (status, headers, `instanceof`) with no body of its own, whose
 * readers answer from the bytes, and whose `body` stream is made only when asked for.
 */
class BufferedResponse extends (Response as unknown as new (
  body: null,
  init: ResponseInit,
) => { readonly headers: Headers; readonly status: number; readonly statusText: string }) {
  #data: Buffer | null;
  #url: string;
  #used = false;
  #stream: ReadableStream<Uint8Array> | null | undefined;

  constructor(data: Buffer | null, url: string, init: ResponseInit) {
    super(null, init);
    this.#data = data;
    this.#url = url;
  }

  get url(): string {
    return this.#url;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#stream === undefined) {
      this.#stream = this.#data && !this.#used ? (new Response(this.#data).body ?? null) : null;
      this.#used = this.#stream !== null;
    }
    return this.#stream;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  #take(): Buffer {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#data ?? Buffer.alloc(0);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const data = this.#take();
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return this.#take().toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#take().toString('utf8'));
  }

  async blob(): Promise<Blob> {
    return new Blob([this.#take()], { type: this.headers.get('content-type') ?? '' });
  }

  clone(): Response {
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.#data, this.#url, {
      status: this.status,
      statusText: this.statusText,
      headers: new Headers(this.headers),
    }) as unknown as Response;
  }
}

/** The process's one keep-alive `fetch` (its agents pool connections across every caller). */
export const nodeFetch: typeof fetch = createNodeFetch();
