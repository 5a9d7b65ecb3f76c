import { nodeFetch } from '../http/node-fetch';
import {
  type CircuitStore,
  MemoryCircuitStore,
  type RateWindow,
  RedisCircuitStore,
  type SharedLimitsStore,
  VendorGate,
} from './shared-limits';

import { TelemetryUnavailableError } from './types';

/** The part of a pino-like logger this module uses. Fields never carry credentials. */
export interface TelemetryLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ResilientFetchOptions {
  /** Names the API in errors and logs, e.g. `posthog`. */
  source: string;
  /** Time-out of one attempt, from sending to the response headers. Default 10000. */
  timeoutMs?: number;
  /** Attempts after the first one for network errors, time-outs, 5xx and 429. Default 3. */
  retries?: number;
  /** First back-off delay; doubles at every retry, with jitter. Default 500. */
  baseDelayMs?: number;
  /** Longest back-off delay, and the cap on a `Retry-After`. Default 30000. */
  maxDelayMs?: number;
  /**
   * The vendor's published limits, kept client-side: fixed `windows` (e.g. 240 a minute AND
   * 2,400 an hour) and at most `concurrent` requests in flight. `appliesTo` restricts them to
   * some requests (default: all), e.g. only a query endpoint. A limit that frees up within
   * `maxWaitMs` (default 3000) is waited for; a longer one fails fast with a
   * `TelemetryUnavailableError` saying when to try again.
   */
  rateLimit?: {
    windows?: RateWindow[];
    concurrent?: number;
    appliesTo?: (url: URL, method: string) => boolean;
    maxWaitMs?: number;
  };
  /** After `failureThreshold` consecutive failed calls, fail fast for `resetMs`, then let one trial call through. */
  circuit?: { failureThreshold?: number; resetMs?: number };
  /**
   * Redis and the app's key prefix: the limits and the circuit then hold across every process.
   * Without it they are this process's own.
   */
  shared?: SharedLimitsStore;
  /** Real waits for a shared limit (default setTimeout); `sleep` below is for retries' back-off. */
  limitSleep?: (ms: number) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Returns a number in [0, 1), for jitter. */
  random?: () => number;
  fetch?: typeof fetch;
  log?: TelemetryLog;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `origin + path` of a URL: no user info, no query string (either may carry credentials). */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Milliseconds to wait as told by a `Retry-After` header (delta-seconds or an HTTP date),
 * or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/**
 * Milliseconds until the vendor's rate-limit window resets, from the IETF draft headers
 * Honeycomb sends: `RateLimit: limit=10, remaining=0, reset=57` or `RateLimit-Reset: 57`
 * (delta-seconds); null when neither says.
 */
export function parseRateLimitReset(headers: Headers): number | null {
  const combined = headers.get('ratelimit');
  const inCombined = combined ? /(?:^|[,;\s])reset=(\d+(?:\.\d+)?)/i.exec(combined)?.[1] : undefined;
  const separate = headers.get('ratelimit-reset')?.trim();
  const text = inCombined ?? (separate && /^\d+(\.\d+)?$/.test(separate) ? separate : undefined);
  return text === undefined ? null : Math.round(Number(text) * 1000);
}

/** Whether the `RateLimit` header says nothing is left in this window. */
function nothingRemaining(headers: Headers): boolean {
  const combined = headers.get('ratelimit');
  const remaining = combined
    ? /(?:^|[,;\s])remaining=(\d+)/i.exec(combined)?.[1]
    : headers.get('ratelimit-remaining')?.trim();
  return remaining === '0';
}

/** Why one attempt failed in a way that is worth retrying; `pauseMs`: the vendor's own wait. */
type AttemptFailure = { reason: string; retryAfterMs: number | null; pauseMs: number | null };

function describeNetworkError(err: unknown, timeoutMs: number): string {
  // Duck-typed rather than `instanceof`: fetch's errors may come from another realm (test runners).
  const e = typeof err === 'object' && err !== null ? (err as { name?: unknown; cause?: unknown }) : {};
  if (e.name === 'TimeoutError') return `time-out (${timeoutMs} ms)`;
  // undici puts the system error code (ECONNREFUSED, ECONNRESET…) on `cause`. Only the code is
  // used: messages may quote the request.
  const cause = typeof e.cause === 'object' && e.cause !== null ? (e.cause as { code?: unknown }) : {};
  if (typeof cause.code === 'string') return `network error (${cause.code})`;
  return 'network error';
}

/**
 * A `fetch` for openapi-fetch's `fetch` option (or any caller) that adds, around every call:
 * a time-out per attempt; retries with exponential back-off and jitter for network errors,
 * time-outs, 5xx and 429; the vendor's rate limits and a circuit breaker, both kept in Redis
 * when `shared` is given so that they hold across every process (see shared-limits.ts).
 *
 * A 429 that says how long to wait (`Retry-After`, `RateLimit: …reset=N`, `RateLimit-Reset`)
 * pauses that kind of request for every process; a short wait is waited out and retried, a
 * long one fails fast. Responses with other statuses (2xx, 3xx, non-retryable 4xx) are
 * returned as they are. When retries are exhausted, the circuit is open, or a limit is reached
 * for longer than `maxWaitMs`, it throws `TelemetryUnavailableError` with a plain reason such as
 * `HTTP 503 after 4 attempts`. Neither errors nor logs include headers or query strings, where
 * credentials may travel.
 */
export function createResilientFetch(options: ResilientFetchOptions): typeof fetch {
  const source = options.source;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const failureThreshold = options.circuit?.failureThreshold ?? 5;
  const resetMs = options.circuit?.resetMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const doFetch = options.fetch ?? nodeFetch;
  const log = options.log;
  const limit = options.rateLimit;
  const maxWaitMs = limit?.maxWaitMs ?? 3000;
  // A slot or a trial is never held longer than one attempt (plus a margin for slow clocks).
  const leaseMs = timeoutMs + 5000;
  const gate = new VendorGate({
    source,
    ...(options.shared ? { shared: options.shared } : {}),
    windows: limit?.windows ?? [],
    concurrent: limit?.concurrent ?? 0,
    leaseMs,
    maxWaitMs,
    ...(options.limitSleep ? { sleep: options.limitSleep } : {}),
    ...(log ? { log } : {}),
  });
  const limitApplies = limit?.appliesTo ?? (() => true);
  const circuit: CircuitStore = options.shared
    ? new RedisCircuitStore(options.shared.redis, options.shared.prefix, source)
    : new MemoryCircuitStore();

  /** Runs a circuit-store operation; if Redis fails, the call goes on as if the circuit were closed. */
  async function remember<T>(what: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await what();
    } catch (err) {
      log?.warn({ err, source }, `${source}: could not read or write the shared circuit breaker`);
      return fallback;
    }
  }

  /** Whether this call may go out, whether it is the half-open trial, and the failures seen. Throws when open. */
  async function admit(): Promise<{ trial: boolean; failures: number }> {
    const snapshot = await remember(() => circuit.read(), {
      state: 'closed' as const,
      failures: 0,
      openedAt: null,
    });
    if (snapshot.state === 'closed') return { trial: false, failures: snapshot.failures };
    const waited = now() - (snapshot.openedAt ?? 0);
    if (snapshot.state === 'open' && waited < resetMs) {
      const left = resetMs - waited;
      throw new TelemetryUnavailableError(
        source,
        `not called: ${failureThreshold} calls in a row failed; the next try is in ${Math.ceil(left / 1000)} s`,
        left,
      );
    }
    // Open long enough, or half-open with its trial's lease run out: one process tries.
    if (await remember(() => circuit.claimTrial(leaseMs), false)) return { trial: true, failures: 0 };
    throw new TelemetryUnavailableError(
      source,
      'not called: a trial call after repeated failures is under way',
      Math.min(leaseMs, resetMs),
    );
  }

  function backoff(attempt: number, retryAfterMs: number | null): number {
    if (retryAfterMs !== null) return Math.min(retryAfterMs, maxDelayMs);
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    // "Equal jitter": at least half the exponential delay, so retries still spread out.
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  }

  async function attemptOnce(
    request: Request,
    limited: boolean,
    pauseWaited: boolean,
  ): Promise<{ response: Response } | { failure: AttemptFailure }> {
    const release = await gate.enter(limited, pauseWaited);
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      let response: Response;
      try {
        // Aborted while waiting for a place: say so now (a listener added later never fires).
        request.signal?.throwIfAborted();
        response = await doFetch(request.clone(), { signal });
      } catch (err) {
        // The caller gave up: not the API's fault, and not worth retrying.
        if (request.signal?.aborted) throw err;
        return {
          failure: { reason: describeNetworkError(err, timeoutMs), retryAfterMs: null, pauseMs: null },
        };
      }
      if (response.status === 429 || response.status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
        const resetMs = response.status === 429 ? parseRateLimitReset(response.headers) : null;
        const pauseMs =
          response.status === 429 && (retryAfterMs !== null || resetMs !== null)
            ? Math.max(retryAfterMs ?? 0, resetMs ?? 0)
            : null;
        // Every process holds back until the vendor's reset, not only this call.
        if (pauseMs !== null && pauseMs > 0) await gate.pause(limited, pauseMs);
        // Free the connection: this body is never read.
        await response.body?.cancel().catch(() => undefined);
        const reason = response.status === 429 ? 'HTTP 429 (rate limited)' : `HTTP ${response.status}`;
        return { failure: { reason, retryAfterMs: pauseMs ?? retryAfterMs, pauseMs } };
      }
      if (nothingRemaining(response.headers)) {
        const resetIn = parseRateLimitReset(response.headers);
        if (resetIn !== null && resetIn > 0) await gate.pause(limited, resetIn);
      }
      return { response };
    } finally {
      await release();
    }
  }

  const resilientFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const where = `${request.method} ${redactUrl(url)}`;
    const limited = limitApplies(url, request.method);
    const { trial, failures } = await admit();
    // A trial call after the circuit opened gets one attempt: it only asks "are you back?".
    const attempts = trial ? 1 : retries + 1;
    let last: AttemptFailure = { reason: 'no attempt made', retryAfterMs: null, pauseMs: null };
    let pauseWaited = false;
    for (let attempt = 0; attempt < attempts; attempt++) {
      let outcome: Awaited<ReturnType<typeof attemptOnce>>;
      try {
        outcome = await attemptOnce(request, limited, pauseWaited);
      } catch (err) {
        // Aborted by the caller, or refused by a limit: release a half-open trial without
        // judging the API (it may be tried again at once).
        if (trial) await remember(() => circuit.open(now() - resetMs, failureThreshold), undefined);
        throw err;
      }
      pauseWaited = false;
      if ('response' in outcome) {
        if (trial || failures > 0) await remember(() => circuit.succeeded(trial), undefined);
        return outcome.response;
      }
      last = outcome.failure;
      if (last.pauseMs !== null && last.pauseMs > maxWaitMs) {
        // The vendor asked for a long pause: every process holds back; this call fails fast.
        log?.warn(
          { source, request: where, reason: last.reason, pauseMs: last.pauseMs },
          `${source}: rate limited`,
        );
        if (trial) await remember(() => circuit.open(now() - resetMs, failureThreshold), undefined);
        throw new TelemetryUnavailableError(
          source,
          `not called again: ${source} asked to slow down (HTTP 429), for every donedone process; the next try is in ${Math.ceil(last.pauseMs / 1000)} s`,
          last.pauseMs,
        );
      }
      if (attempt + 1 < attempts) {
        const delayMs = backoff(attempt, last.retryAfterMs);
        log?.warn(
          { source, request: where, reason: last.reason, attempt: attempt + 1, delayMs },
          `${source}: retrying after ${last.reason}`,
        );
        await sleep(delayMs);
        pauseWaited = last.pauseMs !== null;
      }
    }
    if (trial) await remember(() => circuit.open(now(), failureThreshold), undefined);
    else await remember(() => circuit.failed(failureThreshold, now()), undefined);
    const plural = attempts === 1 ? 'attempt' : 'attempts';
    log?.warn({ source, request: where, reason: last.reason, attempts }, `${source}: giving up`);
    throw new TelemetryUnavailableError(source, `${last.reason} after ${attempts} ${plural}`);
  };
  return resilientFetch as typeof fetch;
}
