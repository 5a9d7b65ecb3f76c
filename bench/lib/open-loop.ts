/**
 * An open-loop load generator for benchmarks: requests go out on a fixed schedule whatever the
 * responses do, so a slow server cannot slow the load down and hide its own latency
 * (coordinated omission). Only for 127.0.0.1 targets.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface PreparedRequest {
  /** What the request is, for per-kind figures (e.g. `list mine`). */
  kind: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Sample {
  kind: string;
  /** From handing the request to node:http until the whole response has arrived. */
  latencyMs: number;
  /** How late the generator sent it against its schedule. */
  lagMs: number;
  /** HTTP status, or 0 for a network error or time-out. */
  status: number;
  sentAt: number;
}

export interface PhaseOptions {
  host: '127.0.0.1';
  port: number;
  ratePerSecond: number;
  durationMs: number;
  /** Builds request `i` just before it is sent (signing needs the current time). */
  make: (i: number) => PreparedRequest;
  agent: Agent;
  timeoutMs?: number;
}

/** A keep-alive agent with room for every request that may be in flight at once. */
export function keepAliveAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
}

/**
 * Calls `act(i, dueAt)` for i = 0 … total − 1 at `start + i / ratePerSecond`, catching up on
 * whatever is due: the schedule, not the timer, sets the rate.
 */
export function onSchedule(
  ratePerSecond: number,
  total: number,
  act: (i: number, dueAt: number) => void,
): void {
  const intervalMs = 1000 / ratePerSecond;
  const start = performance.now();
  let next = 0;
  const tick = () => {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) {
      const i = next++;
      act(i, start + i * intervalMs);
    }
    if (next < total) setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
  };
  tick();
}

/** Sends `ratePerSecond × durationMs` requests on schedule; resolves when every one has finished. */
export function runPhase(opts: PhaseOptions): Promise<Sample[]> {
  const total = Math.round((opts.ratePerSecond * opts.durationMs) / 1000);
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const samples: Sample[] = [];
  let done = 0;
  return new Promise((resolve) => {
    const finishOne = (sample: Sample) => {
      samples.push(sample);
      if (++done === total) resolve(samples);
    };
    const send = (i: number, dueAt: number) => {
      const prepared = opts.make(i);
      const sentAt = performance.now();
      const lagMs = sentAt - dueAt;
      let settled = false;
      const settle = (status: number) => {
        if (settled) return;
        settled = true;
        finishOne({ kind: prepared.kind, latencyMs: performance.now() - sentAt, lagMs, status, sentAt });
      };
      const req = request(
        {
          host: opts.host,
          port: opts.port,
          method: 'POST',
          path: prepared.path,
          agent: opts.agent,
          headers: { ...prepared.headers, 'content-length': Buffer.byteLength(prepared.body) },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => settle(res.statusCode ?? 0));
          res.on('error', () => settle(0));
        },
      );
      req.setTimeout(timeoutMs, () => {
        req.destroy(new Error('timeout'));
      });
      req.on('error', () => settle(0));
      req.end(prepared.body);
    };
    if (total === 0) resolve(samples);
    else onSchedule(opts.ratePerSecond, total, send);
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  requests: number;
  errors: number;
  /** Requests per second actually sent, from the first to the last send of each phase. */
  achievedRate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  lagP99: number;
  lagMax: number;
}

/** Figures over the samples of one or more phases (`phases` keeps them apart for the rate). */
export function summarize(phases: readonly (readonly Sample[])[]): Summary {
  const all = phases.flat();
  const latencies = all.map((s) => s.latencyMs).sort((a, b) => a - b);
  const lags = all.map((s) => s.lagMs).sort((a, b) => a - b);
  let spanMs = 0;
  let intervals = 0;
  for (const phase of phases) {
    if (phase.length < 2) continue;
    const times = phase.map((s) => s.sentAt);
    spanMs += Math.max(...times) - Math.min(...times);
    intervals += phase.length - 1;
  }
  return {
    requests: all.length,
    errors: all.filter((s) => s.status !== 200).length,
    achievedRate: spanMs > 0 ? (intervals * 1000) / spanMs : Number.NaN,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    lagP99: percentile(lags, 99),
    lagMax: lags[lags.length - 1] ?? Number.NaN,
  };
}
