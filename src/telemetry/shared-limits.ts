import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { RedisClient } from '../store/redis-connection';
import { TelemetryUnavailableError } from './types';

/**
 * Where the vendor limits and circuit breakers live: the app's Redis and key prefix, so that
 * every donedone process (web, worker, any number of machines) shares them. Without it, the
 * limits are kept in this process only (scripts and tests of a single client).
 */
export interface SharedLimitsStore {
  redis: RedisClient;
  prefix: string;
}

/** At most `points` requests in each fixed window of `durationSec` seconds. */
export interface RateWindow {
  points: number;
  durationSec: number;
  /** How the limit reads in messages, e.g. `240 queries a minute`. */
  describe?: string;
}

/** The part of a pino-like logger this module uses. */
export interface LimitsLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Redis keys of one vendor: `{prefix}limits:{posthog}:…`. The `{…}` hash tag puts all of a
 * vendor's keys in one slot, so the limits work unchanged on Redis Cluster.
 */
export function limitsKeyBase(prefix: string, source: string): string {
  return `${prefix}limits:{${source}}:`;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function isRefusal(err: unknown): err is RateLimiterRes {
  return err instanceof RateLimiterRes;
}

export interface VendorGateOptions {
  source: string;
  /** Absent: limits held in this process only. */
  shared?: SharedLimitsStore;
  /** Fixed windows for the requests the limit applies to (all must admit a request). */
  windows?: RateWindow[];
  /** At most this many limited requests in flight across all processes. */
  concurrent?: number;
  /** The longest a concurrency slot is held (an attempt's time-out plus a margin): a crashed holder frees it then. */
  leaseMs?: number;
  /** A limit that frees up within this many ms is waited for; a longer one is refused at once. Default 3000. */
  maxWaitMs?: number;
  /** Real waiting (limits are kept in real time, by Redis' clock); tests may shorten it. */
  sleep?: (ms: number) => Promise<void>;
  log?: LimitsLog;
}

/**
 * The vendor's rate limits, shared by every process through Redis, built on
 * rate-limiter-flexible: fixed windows (`RateLimiterRedis`, with a per-process
 * `RateLimiterMemory` as insurance should Redis fail), concurrency slots (one key a slot,
 * held as a lease), and pauses the vendor asked for (HTTP 429 with a reset), which hold for
 * every process. A limit that frees up within `maxWaitMs` is waited for; a longer one is
 * refused at once with a `TelemetryUnavailableError` saying when to try again.
 */
export class VendorGate {
  private readonly source: string;
  private readonly windows: { limiter: RateLimiterAbstract; window: RateWindow }[];
  private readonly slots: RateLimiterAbstract | undefined;
  private readonly slotCount: number;
  private readonly pauses: RateLimiterAbstract;
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: LimitsLog | undefined;

  constructor(options: VendorGateOptions) {
    this.source = options.source;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.maxWaitMs = options.maxWaitMs ?? 3000;
    this.sleep = options.sleep ?? realSleep;
    this.log = options.log;
    const base = options.shared ? limitsKeyBase(options.shared.prefix, options.source) : `${options.source}:`;
    const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration });
      if (!options.shared) return memory;
      return new RateLimiterRedis({
        storeClient: options.shared.redis,
        keyPrefix,
        points,
        duration,
        // If Redis fails, this process still keeps to the limit on its own.
        insuranceLimiter: memory,
      });
    };
    this.windows = (options.windows ?? [])
      .filter((w) => w.points > 0 && w.durationSec > 0)
      .map((window) => ({
        window,
        limiter: make(
          `${base}rate:${window.points}per${window.durationSec}s`,
          window.points,
          window.durationSec,
        ),
      }));
    this.slotCount = Math.max(0, Math.floor(options.concurrent ?? 0));
    this.slots = this.slotCount > 0 ? make(`${base}slot`, 1, seconds(this.leaseMs)) : undefined;
    this.pauses = make(`${base}pause`, 1, 1);
  }

  /**
   * Waits for (or is refused) a place for one request; returns the function that frees it.
   * `limited` says whether the vendor's limits apply to this request; a vendor's pause
   * applies to its class either way. `pauseWaited` skips the pause check: the caller has
   * just waited out the pause it was given.
   */
  async enter(limited: boolean, pauseWaited = false): Promise<() => Promise<void>> {
    let waited = 0;
    for (;;) {
      const paused = pauseWaited ? 0 : await this.pausedFor(limited);
      if (paused > 0) {
        waited = await this.waitOrRefuse(
          paused,
          waited,
          `${this.source} asked to slow down (HTTP 429), for every donedone process`,
        );
        continue;
      }
      if (!limited) return async () => undefined;
      const refused = await this.takeWindows();
      if (refused) {
        const what =
          refused.window.describe ?? `${refused.window.points} requests per ${refused.window.durationSec} s`;
        waited = await this.waitOrRefuse(
          refused.msBeforeNext,
          waited,
          `rate limit reached (${what}, shared by every donedone process)`,
        );
        continue;
      }
      if (!this.slots) return async () => undefined;
      try {
        return await this.takeSlot(this.slots);
      } catch (err) {
        await this.giveBackWindows();
        throw err;
      }
    }
  }

  /** The vendor said to wait `ms`: every process holds back this class of requests until then. */
  async pause(limited: boolean, ms: number): Promise<void> {
    try {
      await this.pauses.block(limited ? 'limited' : 'other', seconds(ms));
    } catch (err) {
      this.log?.warn({ err, source: this.source }, `${this.source}: could not share a rate-limit pause`);
    }
  }

  private async pausedFor(limited: boolean): Promise<number> {
    try {
      const res = await this.pauses.get(limited ? 'limited' : 'other');
      return res && res.consumedPoints > 1 ? Math.max(1, res.msBeforeNext) : 0;
    } catch (err) {
      this.log?.warn({ err, source: this.source }, `${this.source}: could not read rate-limit pauses`);
      return 0;
    }
  }

  private async waitOrRefuse(ms: number, waited: number, reason: string): Promise<number> {
    if (waited + ms > this.maxWaitMs) {
      throw new TelemetryUnavailableError(
        this.source,
        `not called: ${reason}; the next try is in ${seconds(ms)} s`,
        ms,
      );
    }
    await this.sleep(ms);
    return waited + ms;
  }

  /** One point from every window, or the first refusal (and the points taken so far given back). */
  private async takeWindows(): Promise<{ window: RateWindow; msBeforeNext: number } | null> {
    const taken: RateLimiterAbstract[] = [];
    for (const { limiter, window } of this.windows) {
      try {
        await limiter.consume('calls');
        taken.push(limiter);
      } catch (err) {
        if (!isRefusal(err)) throw err;
        // A refused request never went out: it must not count against the other windows.
        await Promise.all(taken.map((l) => l.reward('calls').catch(() => undefined)));
        return { window, msBeforeNext: Math.max(1, err.msBeforeNext) };
      }
    }
    return null;
  }

  private async giveBackWindows(): Promise<void> {
    await Promise.all(this.windows.map(({ limiter }) => limiter.reward('calls').catch(() => undefined)));
  }

  /**
   * A concurrency slot: slot `i` is the key `i`, taken by the first `consume` in its lease and
   * deleted when the request is done. Full: poll until one frees, for at most a lease (a slot
   * is never held longer).
   */
  private async takeSlot(slots: RateLimiterAbstract): Promise<() => Promise<void>> {
    let waited = 0;
    let delay = 25;
    for (;;) {
      for (let i = 0; i < this.slotCount; i++) {
        try {
          const res = await slots.consume(String(i));
          if (res.consumedPoints === 1) {
            let freed = false;
            return async () => {
              if (freed) return;
              freed = true;
              await slots.delete(String(i)).catch((err: unknown) => {
                this.log?.warn({ err, source: this.source }, `${this.source}: could not free a query slot`);
              });
            };
          }
        } catch (err) {
          if (!isRefusal(err)) throw err;
        }
      }
      if (waited >= this.leaseMs) {
        throw new TelemetryUnavailableError(
          this.source,
          `not called: ${this.slotCount} queries already running (the most ${this.source} takes at once, shared by every donedone process); the next try is in ${seconds(delay)} s`,
          delay,
        );
      }
      await this.sleep(delay);
      waited += delay;
      delay = Math.min(250, delay * 2);
    }
  }
}

/** What a circuit breaker remembers, shared by every process. */
export interface CircuitSnapshot {
  state: 'closed' | 'open' | 'half-open';
  /** Failed calls in a row (across processes). */
  failures: number;
  /** When it last opened (the clock of the process that opened it), or null. */
  openedAt: number | null;
}

/** Storage for one circuit: in Redis for every process, or in memory for one. */
export interface CircuitStore {
  read(): Promise<CircuitSnapshot>;
  /** Claims the one trial call after the circuit opened; false when another holds it. */
  claimTrial(leaseMs: number): Promise<boolean>;
  /** One more failure in a row; opens the circuit at `threshold`. */
  failed(threshold: number, now: number): Promise<void>;
  /** The trial failed (or, with `openedAt` in the past, gave up): open again. */
  open(openedAt: number, failures: number): Promise<void>;
  /** A call succeeded: no failures in a row; a successful trial closes the circuit. */
  succeeded(trial: boolean): Promise<void>;
}

/** A circuit kept in one process's memory. */
export class MemoryCircuitStore implements CircuitStore {
  private snapshot: CircuitSnapshot = { state: 'closed', failures: 0, openedAt: null };
  private trialUntil = 0;

  async read(): Promise<CircuitSnapshot> {
    return { ...this.snapshot };
  }

  async claimTrial(leaseMs: number): Promise<boolean> {
    const t = Date.now();
    if (this.trialUntil > t) return false;
    this.trialUntil = t + leaseMs;
    this.snapshot = { ...this.snapshot, state: 'half-open' };
    return true;
  }

  async failed(threshold: number, now: number): Promise<void> {
    const failures = this.snapshot.failures + 1;
    if (this.snapshot.state === 'closed' && failures >= threshold) {
      this.snapshot = { state: 'open', failures, openedAt: now };
    } else {
      this.snapshot = { ...this.snapshot, failures };
    }
  }

  async open(openedAt: number, failures: number): Promise<void> {
    this.snapshot = { state: 'open', failures, openedAt };
    this.trialUntil = 0;
  }

  async succeeded(trial: boolean): Promise<void> {
    if (trial) {
      this.snapshot = { state: 'closed', failures: 0, openedAt: null };
      this.trialUntil = 0;
    } else {
      this.snapshot = { ...this.snapshot, failures: 0 };
    }
  }
}

/** How long a vendor's circuit is remembered without news: a day. */
const CIRCUIT_TTL_MS = 24 * 3600_000;

/**
 * A circuit in Redis: a hash `{prefix}limits:{source}:circuit` (state, failures, openedAt) and
 * the trial's lease `…:trial` (SET NX PX), so that when one process finds the API down the
 * others stop calling it too, and only one process makes the trial call. Plain commands, no
 * scripts; the races left (two processes opening at once) only repeat the same transition.
 */
export class RedisCircuitStore implements CircuitStore {
  private readonly key: string;
  private readonly trialKey: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    source: string,
  ) {
    const base = limitsKeyBase(prefix, source);
    this.key = `${base}circuit`;
    this.trialKey = `${base}trial`;
  }

  async read(): Promise<CircuitSnapshot> {
    const h = await this.redis.hgetall(this.key);
    const state = h.state === 'open' || h.state === 'half-open' ? h.state : 'closed';
    const openedAt = h.openedAt !== undefined && h.openedAt !== '' ? Number(h.openedAt) : null;
    return { state, failures: Number(h.failures ?? 0) || 0, openedAt };
  }

  async claimTrial(leaseMs: number): Promise<boolean> {
    const ok = await this.redis.set(this.trialKey, '1', 'PX', Math.max(1, Math.round(leaseMs)), 'NX');
    if (ok !== 'OK') return false;
    await this.redis.multi().hset(this.key, 'state', 'half-open').pexpire(this.key, CIRCUIT_TTL_MS).exec();
    return true;
  }

  async failed(threshold: number, now: number): Promise<void> {
    const replies = await this.redis
      .multi()
      .hincrby(this.key, 'failures', 1)
      .hget(this.key, 'state')
      .pexpire(this.key, CIRCUIT_TTL_MS)
      .exec();
    const failures = Number(replies?.[0]?.[1] ?? 0);
    const state = replies?.[1]?.[1];
    if (failures >= threshold && (state === null || state === undefined || state === 'closed')) {
      await this.redis.hset(this.key, 'state', 'open', 'openedAt', String(now));
    }
  }

  async open(openedAt: number, failures: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key, 'state', 'open', 'openedAt', String(openedAt), 'failures', String(failures))
      .pexpire(this.key, CIRCUIT_TTL_MS)
      .del(this.trialKey)
      .exec();
  }

  async succeeded(trial: boolean): Promise<void> {
    if (trial) {
      await this.redis
        .multi()
        .hset(this.key, 'state', 'closed', 'failures', '0', 'openedAt', '')
        .pexpire(this.key, CIRCUIT_TTL_MS)
        .del(this.trialKey)
        .exec();
    } else {
      await this.redis.hset(this.key, 'failures', '0');
    }
  }
}
