import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createNodeFetch } from '../../src/http/node-fetch';

/** The keep-alive fetch against a real HTTP server: what fetch's callers rely on. */
describe('nodeFetch', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const sockets = new Set<import('node:net').Socket>();

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      sockets.add(req.socket);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/gzip') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(gzipSync(JSON.stringify({ ok: true, zipped: 'yes' })));
        } else if (req.url === '/redirect') {
          res.writeHead(303, { location: '/echo?after=redirect' });
          res.end();
        } else if (req.url === '/slow') {
          setTimeout(() => res.end('late'), 2_000);
        } else if (req.url === '/empty') {
          res.writeHead(204);
          res.end();
        } else {
          res.writeHead(201, { 'content-type': 'application/json', 'x-answer': 'yes' });
          res.end(JSON.stringify({ method: req.method, body }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends string, form and byte bodies with their headers, and answers as fetch does', async () => {
    const f = createNodeFetch();
    const json = await f(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer xoxb-1' },
      body: JSON.stringify({ text: 'héllo' }),
    });
    expect(json.status).toBe(201);
    expect(json.ok).toBe(true);
    expect(json.headers.get('x-answer')).toBe('yes');
    expect(await json.json()).toEqual({ method: 'POST', body: '{"text":"héllo"}' });
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer xoxb-1');
    expect(seen.at(-1)!.headers['content-length']).toBe(String(Buffer.byteLength('{"text":"héllo"}')));

    await f(`${base}/echo`, { method: 'POST', body: new URLSearchParams({ channel: 'C1', text: 'a&b' }) });
    expect(seen.at(-1)!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(new URLSearchParams(seen.at(-1)!.body).get('text')).toBe('a&b');

    await f(`${base}/echo`, { method: 'PUT', body: new Uint8Array([104, 105]) });
    expect(seen.at(-1)!).toMatchObject({ method: 'PUT', body: 'hi' });

    const empty = await f(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('answers with a Response whose body reads once, as a stream or a clone', async () => {
    const f = createNodeFetch();
    const post = () => f(`${base}/echo`, { method: 'POST', body: 'abc' });
    const expected = JSON.stringify({ method: 'POST', body: 'abc' });

    const once = await post();
    expect(once).toBeInstanceOf(Response);
    expect(once.url).toBe(`${base}/echo`);
    expect(once.bodyUsed).toBe(false);
    const copy = once.clone();
    expect(await once.text()).toBe(expected);
    expect(once.bodyUsed).toBe(true);
    await expect(once.json()).rejects.toThrow(TypeError);
    expect(() => once.clone()).toThrow(TypeError);
    expect(await copy.json()).toEqual({ method: 'POST', body: 'abc' });

    const streamed = await post();
    const chunks: Uint8Array[] = [];
    for await (const chunk of streamed.body!) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe(expected);
    expect(streamed.bodyUsed).toBe(true);
    await expect(streamed.text()).rejects.toThrow(TypeError);

    const bytes = await post();
    expect(Buffer.from(await bytes.arrayBuffer()).toString()).toBe(expected);
    const blob = await (await post()).blob();
    expect(blob.type).toBe('application/json');
    expect(await blob.text()).toBe(expected);

    const empty = await f(`${base}/empty`, { method: 'POST', body: '' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect(await empty.text()).toBe('');
  });

  it('takes a Request (as openapi-fetch gives one), decodes gzip and follows a redirect', async () => {
    const f = createNodeFetch();
    const request = new Request(`${base}/echo?q=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"select 1"}',
    });
    const answer = await f(request);
    expect(await answer.json()).toEqual({ method: 'POST', body: '{"query":"select 1"}' });
    expect(seen.at(-1)!.url).toBe('/echo?q=1');

    expect(await (await f(`${base}/gzip`)).json()).toEqual({ ok: true, zipped: 'yes' });

    const redirected = await f(`${base}/redirect`, { method: 'POST', body: 'x' });
    expect(redirected.status).toBe(201);
    expect(seen.at(-1)!).toMatchObject({ method: 'GET', url: '/echo?after=redirect', body: '' });
  });

  it('rejects with the signal’s reason (a time-out stays a TimeoutError) and a refused connection as fetch does', async () => {
    const f = createNodeFetch();
    await expect(f(`${base}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await f(`http://127.0.0.1:${port}/`).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as TypeError).message).toBe('fetch failed');
    expect(((refused as TypeError).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('keeps connections alive, and a kept one the server closed is replaced without an error', async () => {
    const f = createNodeFetch({ freeSocketMs: 10_000 });
    sockets.clear();
    for (let i = 0; i < 5; i++)
      expect((await f(`${base}/echo`, { method: 'POST', body: String(i) })).status).toBe(201);
    expect(sockets.size).toBe(1);
    // The server drops its idle connections (a restart, an idle time-out without a hint): the
    // next call, on the same tick, still succeeds on a new connection.
    for (const socket of sockets) socket.destroy();
    expect((await f(`${base}/echo`, { method: 'POST', body: 'after idle' })).status).toBe(201);
    expect(seen.at(-1)!.body).toBe('after idle');
  });
});
