import {
  createResilientFetch,
  parseRateLimitReset,
  parseRetryAfter,
  redactUrl,
} from '../../src/telemetry/resilient-fetch';
import { TelemetryUnavailableError } from '../../src/telemetry/types';

const SECRET = 'sk_live_SECRET789';
const URL_WITH_SECRET = `https://api.example.com/api/v1/query?query=up&api_key=${SECRET}`;

/** A fake clock whose sleeps advance it, recording each wait. */
function clock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** A fake transport answering from a list of statuses (or thrown errors), recording calls. */
function transport(script: (number | Error | { status: number; headers?: Record<string, string> })[]) {
  const calls: Request[] = [];
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    calls.push(req);
    const next = script.length > 1 ? script.shift() : script[0];
    if (next === undefined) throw new Error('script exhausted');
    if (next instanceof Error) throw next;
    const { status, headers } = typeof next === 'number' ? { status: next, headers: {} } : next;
    return new Response(status === 204 ? null : JSON.stringify({ status }), { status, headers });
  };
  return { fetch: fn as typeof fetch, calls };
}

function networkError(code: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code}`), { code }) });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a rejection');
  return err;
}

describe('redactUrl and parseRetryAfter', () => {
  it('drops the query string and user info', () => {
    expect(redactUrl(URL_WITH_SECRET)).toBe('https://api.example.com/api/v1/query');
    expect(redactUrl(`https://user:${SECRET}@h.example/x?y=1`)).toBe('https://h.example/x');
  });

  it('reads seconds and HTTP dates', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('createResilientFetch', () => {
  it('passes a success straight through', async () => {
    const t = transport([200]);
    const c = clock();
    const f = createResilientFetch({ source: 'test', fetch: t.fetch, sleep: c.sleep, now: c.now });
    const res = await f('https://api.example.com/ok', { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(await t.calls[0]?.text()).toBe('{"a":1}');
  });

  it('returns non-retryable 4xx to the caller without retrying', async () => {
    const t = transport([404]);
    const c = clock();
    const f = createResilientFetch({ source: 'test', fetch: t.fetch, sleep: c.sleep, now: c.now });
    expect((await f('https://api.example.com/x')).status).toBe(404);
    expect(t.calls).toHaveLength(1);
  });

  it('retries 5xx with exponential back-off and jitter, re-sending the body each time', async () => {
    const t = transport([503, 502, 500, 200]);
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: t.fetch,
      sleep: c.sleep,
      now: c.now,
      baseDelayMs: 100,
      random: () => 1,
    });
    const res = await f(new Request('https://api.example.com/q', { method: 'POST', body: 'payload' }));
    expect(res.status).toBe(200);
    expect(c.sleeps).toEqual([100, 200, 400]);
    expect(await Promise.all(t.calls.map((r) => r.text()))).toEqual([
      'payload',
      'payload',
      'payload',
      'payload',
    ]);
  });

  it("caps a 503's Retry-After at maxDelayMs", async () => {
    const t = transport([{ status: 503, headers: { 'retry-after': '3600' } }, 200]);
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: t.fetch,
      sleep: c.sleep,
      now: c.now,
      maxDelayMs: 5000,
    });
    expect((await f('https://api.example.com/x')).status).toBe(200);
    expect(c.sleeps).toEqual([5000]);
  });

  it('fails fast on a 429 with a long Retry-After, and holds back the calls after it', async () => {
    const t = transport([{ status: 429, headers: { 'retry-after': '3600' } }, 200]);
    const c = clock();
    const f = createResilientFetch({ source: 'test', fetch: t.fetch, sleep: c.sleep, now: c.now });
    const err = await rejection(f('https://api.example.com/x'));
    expect(err.message).toBe(
      'test: not called again: test asked to slow down (HTTP 429), for every donedone process; the next try is in 3600 s',
    );
    expect((err as TelemetryUnavailableError).retryAfterMs).toBe(3_600_000);
    const next = await rejection(f('https://api.example.com/x'));
    expect(next.message).toMatch(
      /^test: not called: test asked to slow down \(HTTP 429\).*the next try is in (3599|3600) s$/,
    );
    expect(t.calls).toHaveLength(1);
    expect(c.sleeps).toEqual([]);
  });

  it('reads RateLimit and RateLimit-Reset', () => {
    expect(parseRateLimitReset(new Headers({ RateLimit: 'limit=10, remaining=0, reset=57' }))).toBe(57_000);
    expect(parseRateLimitReset(new Headers({ 'RateLimit-Reset': '12' }))).toBe(12_000);
    expect(parseRateLimitReset(new Headers({ RateLimit: 'limit=10, remaining=3' }))).toBeNull();
    expect(parseRateLimitReset(new Headers())).toBeNull();
  });

  it('gives up with a plain reason, and never shows credentials in the error or the logs', async () => {
    const t = transport([503]);
    const c = clock();
    const logs: string[] = [];
    const f = createResilientFetch({
      source: 'prometheus',
      fetch: t.fetch,
      sleep: c.sleep,
      now: c.now,
      retries: 2,
      log: { warn: (fields, message) => logs.push(JSON.stringify(fields) + message) },
    });
    const err = await rejection(f(URL_WITH_SECRET, { headers: { Authorization: `Bearer ${SECRET}` } }));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toBe('prometheus: HTTP 503 after 3 attempts');
    expect(t.calls).toHaveLength(3);
    expect(logs).toHaveLength(3);
    expect(logs.join('\n')).toContain('GET https://api.example.com/api/v1/query');
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain('api_key');
  });

  it('names network errors by their code only', async () => {
    const t = transport([networkError('ECONNRESET')]);
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: t.fetch,
      sleep: c.sleep,
      now: c.now,
      retries: 1,
    });
    const err = await rejection(f(URL_WITH_SECRET));
    expect(err.message).toBe('test: network error (ECONNRESET) after 2 attempts');
  });

  it('opens the circuit after N failed calls, fails fast, then lets one trial through after resetMs', async () => {
    const t = transport([500]);
    const c = clock();
    const f = createResilientFetch({
      source: 'posthog',
      fetch: t.fetch,
      sleep: c.sleep,
      now: c.now,
      retries: 0,
      circuit: { failureThreshold: 3, resetMs: 30_000 },
    });
    for (let i = 0; i < 3; i++)
      await expect(f('https://api.example.com/x')).rejects.toThrow('HTTP 500 after 1 attempt');
    expect(t.calls).toHaveLength(3);

    // Open: no call goes out.
    const fast = await rejection(f('https://api.example.com/x'));
    expect(fast).toBeInstanceOf(TelemetryUnavailableError);
    expect(fast.message).toBe('posthog: not called: 3 calls in a row failed; the next try is in 30 s');
    expect(t.calls).toHaveLength(3);

    // After resetMs, one trial; it fails, so the circuit opens again.
    c.advance(30_000);
    await expect(f('https://api.example.com/x')).rejects.toThrow('HTTP 500 after 1 attempt');
    expect(t.calls).toHaveLength(4);
    await expect(f('https://api.example.com/x')).rejects.toThrow('not called');
    expect(t.calls).toHaveLength(4);
  });

  it('closes the circuit again after a successful trial', async () => {
    const script: number[] = [500, 500, 200];
    const t = transport(script);
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: t.fetch,
      sleep: c.sleep,
      now: c.now,
      retries: 0,
      circuit: { failureThreshold: 2, resetMs: 10_000 },
    });
    await expect(f('https://api.example.com/x')).rejects.toThrow('HTTP 500');
    await expect(f('https://api.example.com/x')).rejects.toThrow('HTTP 500');
    await expect(f('https://api.example.com/x')).rejects.toThrow('not called');
    c.advance(10_000);
    expect((await f('https://api.example.com/x')).status).toBe(200);
    expect((await f('https://api.example.com/x')).status).toBe(200);
    expect(t.calls).toHaveLength(4);
  });

  it('lets only one trial through while half-open', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const slow = (async () => {
      calls += 1;
      if (calls <= 2) return new Response('', { status: 500 });
      await new Promise<void>((r) => {
        release = r;
      });
      return new Response('{}', { status: 200 });
    }) as typeof fetch;
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: slow,
      sleep: c.sleep,
      now: c.now,
      retries: 0,
      circuit: { failureThreshold: 2, resetMs: 1000 },
    });
    await expect(f('https://api.example.com/x')).rejects.toThrow('HTTP 500');
    await expect(f('https://api.example.com/x')).rejects.toThrow('HTTP 500');
    c.advance(1000);
    const trial = f('https://api.example.com/x');
    await expect(f('https://api.example.com/x')).rejects.toThrow(
      'a trial call after repeated failures is under way',
    );
    await new Promise((r) => setImmediate(r));
    release();
    expect((await trial).status).toBe(200);
    expect(calls).toBe(3);
  });

  it('keeps at most `concurrent` requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const gated = (async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return new Response('{}', { status: 200 });
    }) as typeof fetch;
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: gated,
      sleep: c.sleep,
      now: c.now,
      rateLimit: { concurrent: 3 },
    });
    const all = await Promise.all(Array.from({ length: 10 }, () => f('https://api.example.com/q')));
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(most).toBe(3);
  });

  it('refuses at once, saying when to retry, a call past a window that frees up later than maxWaitMs', async () => {
    const t = transport([200]);
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: t.fetch,
      sleep: c.sleep,
      now: c.now,
      rateLimit: {
        windows: [{ points: 2, durationSec: 60, describe: '2 queries a minute' }],
        appliesTo: (url) => url.pathname === '/query',
      },
    });
    await f('https://api.example.com/query');
    await f('https://api.example.com/query');
    await f('https://api.example.com/other');
    const err = await rejection(f('https://api.example.com/query'));
    expect(err).toBeInstanceOf(TelemetryUnavailableError);
    expect(err.message).toMatch(
      /^test: not called: rate limit reached \(2 queries a minute, shared by every donedone process\); the next try is in (59|60) s$/,
    );
    expect((err as TelemetryUnavailableError).retryAfterMs).toBeGreaterThan(58_000);
    expect(t.calls).toHaveLength(3);
    // A refusal is not a failure of the API: the circuit stays closed.
    expect((await f('https://api.example.com/other')).status).toBe(200);
  });

  it('waits out a window that frees up within maxWaitMs', async () => {
    const t = transport([200]);
    const f = createResilientFetch({
      source: 'test',
      fetch: t.fetch,
      rateLimit: { windows: [{ points: 2, durationSec: 1 }], maxWaitMs: 3000 },
    });
    const started = Date.now();
    await Promise.all([1, 2, 3].map(() => f('https://api.example.com/query')));
    expect(t.calls).toHaveLength(3);
    // The third waited for the next one-second window.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('retries a time-out and reports it', async () => {
    const hang = ((_input: Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as unknown as typeof fetch;
    const c = clock();
    const f = createResilientFetch({
      source: 'test',
      fetch: hang,
      sleep: c.sleep,
      now: c.now,
      timeoutMs: 20,
      retries: 1,
    });
    const err = await rejection(f('https://api.example.com/slow'));
    expect(err.message).toBe('test: time-out (20 ms) after 2 attempts');
  });

  it('does not retry or blame the API when the caller aborts', async () => {
    const hang = ((_input: Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as unknown as typeof fetch;
    const c = clock();
    const f = createResilientFetch({ source: 'test', fetch: hang, sleep: c.sleep, now: c.now });
    const controller = new AbortController();
    const p = f('https://api.example.com/slow', { signal: controller.signal });
    controller.abort();
    // The caller's own AbortError, not a TelemetryUnavailableError after retries.
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(c.sleeps).toEqual([]);
  });
});
