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
   * A client-side limiter for the vendor's published limits: a token bucket of `perMinute`
   * requests (bursts up to `perMinute`) and at most `concurrent` requests in flight.
   * `appliesTo` restricts it to some requests (default: all), e.g. only a query endpoint.
   */
  rateLimit?: { perMinute?: number; concurrent?: number; appliesTo?: (url: URL, method: string) => boolean };
  /** After `failureThreshold` consecutive failed calls, fail fast for `resetMs`, then let one trial call through. */
  circuit?: { failureThreshold?: number; resetMs?: number };
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

/** A token bucket: `capacity` tokens, refilled continuously at `perMinute` a minute. */
class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly ratePerMs: number;

  constructor(
    private readonly capacity: number,
    perMinute: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.tokens = capacity;
    this.last = now();
    this.ratePerMs = perMinute / 60_000;
  }

  async take(): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.capacity, this.tokens + (t - this.last) * this.ratePerMs);
      this.last = t;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil((1 - this.tokens) / this.ratePerMs));
    }
  }
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` stays the same.
      if (next) next();
      else this.active -= 1;
    };
  }
}

type CircuitState =
  | { kind: 'closed'; failures: number }
  | { kind: 'open'; since: number }
  | { kind: 'half-open' };

/** Why one attempt failed in a way that is worth retrying. */
type AttemptFailure = { reason: string; retryAfterMs: number | null };

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
 * time-outs, 5xx and 429 (honouring `Retry-After`, capped at `maxDelayMs`); an optional
 * client-side rate limiter; and a circuit breaker.
 *
 * Responses with other statuses (2xx, 3xx, non-retryable 4xx) are returned as they are. When
 * retries are exhausted, or the circuit is open, it throws `TelemetryUnavailableError` with a
 * plain reason such as `HTTP 503 after 4 attempts`. Neither errors nor logs include headers or
 * query strings, where credentials may travel.
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
  const doFetch = options.fetch ?? globalThis.fetch;
  const log = options.log;

  const limit = options.rateLimit;
  const bucket =
    limit?.perMinute !== undefined && limit.perMinute > 0
      ? new TokenBucket(limit.perMinute, limit.perMinute, now, sleep)
      : undefined;
  const semaphore =
    limit?.concurrent !== undefined && limit.concurrent > 0 ? new Semaphore(limit.concurrent) : undefined;
  const limitApplies = limit?.appliesTo ?? (() => true);

  let circuit: CircuitState = { kind: 'closed', failures: 0 };

  /** Whether this call may go out, and whether it is the half-open trial. Throws when open. */
  function admit(): { trial: boolean } {
    if (circuit.kind === 'closed') return { trial: false };
    if (circuit.kind === 'open') {
      const waited = now() - circuit.since;
      if (waited >= resetMs) {
        circuit = { kind: 'half-open' };
        return { trial: true };
      }
      const left = Math.ceil((resetMs - waited) / 1000);
      throw new TelemetryUnavailableError(
        source,
        `not called: ${failureThreshold} calls in a row failed; the next try is in ${left} s`,
      );
    }
    throw new TelemetryUnavailableError(
      source,
      'not called: a trial call after repeated failures is under way',
    );
  }

  function recordSuccess(): void {
    circuit = { kind: 'closed', failures: 0 };
  }

  function recordFailure(trial: boolean): void {
    if (trial) {
      circuit = { kind: 'open', since: now() };
      return;
    }
    if (circuit.kind !== 'closed') return;
    const failures = circuit.failures + 1;
    circuit = failures >= failureThreshold ? { kind: 'open', since: now() } : { kind: 'closed', failures };
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
  ): Promise<{ response: Response } | { failure: AttemptFailure }> {
    const release = limited && semaphore ? await semaphore.acquire() : undefined;
    try {
      if (limited && bucket) await bucket.take();
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await doFetch(request.clone(), { signal });
      } catch (err) {
        // The caller gave up: not the API's fault, and not worth retrying.
        if (request.signal?.aborted) throw err;
        return { failure: { reason: describeNetworkError(err, timeoutMs), retryAfterMs: null } };
      }
      if (response.status === 429 || response.status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
        // Free the connection: this body is never read.
        await response.body?.cancel().catch(() => undefined);
        const reason = response.status === 429 ? 'HTTP 429 (rate limited)' : `HTTP ${response.status}`;
        return { failure: { reason, retryAfterMs } };
      }
      return { response };
    } finally {
      release?.();
    }
  }

  const resilientFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const where = `${request.method} ${redactUrl(url)}`;
    const limited = limitApplies(url, request.method);
    const { trial } = admit();
    // A trial call after the circuit opened gets one attempt: it only asks "are you back?".
    const attempts = trial ? 1 : retries + 1;
    let last: AttemptFailure = { reason: 'no attempt made', retryAfterMs: null };
    for (let attempt = 0; attempt < attempts; attempt++) {
      let outcome: Awaited<ReturnType<typeof attemptOnce>>;
      try {
        outcome = await attemptOnce(request, limited);
      } catch (err) {
        // Aborted by the caller: release a half-open trial without judging the API.
        if (trial) circuit = { kind: 'open', since: now() - resetMs };
        throw err;
      }
      if ('response' in outcome) {
        recordSuccess();
        return outcome.response;
      }
      last = outcome.failure;
      if (attempt + 1 < attempts) {
        const delayMs = backoff(attempt, last.retryAfterMs);
        log?.warn(
          { source, request: where, reason: last.reason, attempt: attempt + 1, delayMs },
          `${source}: retrying after ${last.reason}`,
        );
        await sleep(delayMs);
      }
    }
    recordFailure(trial);
    const plural = attempts === 1 ? 'attempt' : 'attempts';
    log?.warn({ source, request: where, reason: last.reason, attempts }, `${source}: giving up`);
    throw new TelemetryUnavailableError(source, `${last.reason} after ${attempts} ${plural}`);
  };
  return resilientFetch as typeof fetch;
}
