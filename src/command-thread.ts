import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { CatalogEntry } from './domain/catalog';
import type { CommandJob, CommandOutcome } from './slack/listeners/commands/donedone-command';

/** From the main thread to the command thread. */
export type ToCommandThread = { type: 'command'; job: CommandJob } | { type: 'stop' };
/** From the command thread to the main thread. */
export type FromCommandThread =
  | { type: 'ready' }
  | { type: 'counted'; outcome: CommandOutcome }
  | { type: 'stopped' };

/** What the command thread is started with (structured-cloned: plain data only). */
export interface CommandThreadData {
  config: Config;
  catalog: CatalogEntry[];
}

/** A thread that dies this soon after starting is not restarted at once, so a crash cannot spin. */
const QUICK_DEATH_MS = 5_000;
const STOP_TIMEOUT_MS = 25_000;

/**
 * The thread where acknowledged slash commands do their work (Redis, telemetry, Web API posts).
 * The main thread only verifies, parses and acknowledges, so the work of earlier commands (and its
 * garbage) never delays the next acknowledgement: Slack wants one within 3 s, and people feel
 * every millisecond before "/donedone" answers.
 *
 * A thread that dies is restarted; commands sent while it restarts wait for it.
 */
export class CommandThread {
  private worker: Worker | undefined;
  private pending: CommandJob[] = [];
  private stopping = false;
  private startedAt = 0;

  constructor(
    private readonly deps: {
      data: CommandThreadData;
      log: Logger;
      counted: (outcome: CommandOutcome) => void;
    },
  ) {}

  /** Starts the thread; resolves when it can take commands, rejects if it cannot start. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.spawn(resolve, reject);
    });
  }

  /** Hands an acknowledged command to the thread. */
  readonly run = (job: CommandJob): void => {
    if (this.worker) this.worker.postMessage({ type: 'command', job } satisfies ToCommandThread);
    else this.pending.push(job);
  };

  /** Lets the commands under way finish, then ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies ToCommandThread);
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private spawn(onReady?: () => void, onFail?: (err: Error) => void): void {
    // The same extension as this file: .js when built, .ts under ts-node (whose hook the thread inherits).
    const entry = join(__dirname, `command-thread-main${extname(__filename)}`);
    const worker = new Worker(entry, { workerData: this.deps.data });
    this.startedAt = Date.now();
    let ready = false;
    worker.on('message', (m: FromCommandThread) => {
      if (m.type === 'ready') {
        ready = true;
        this.worker = worker;
        for (const job of this.pending.splice(0)) this.run(job);
        onReady?.();
      } else if (m.type === 'counted') {
        this.deps.counted(m.outcome);
      } else if (m.type === 'stopped') {
        // Its work is done and its connections closed: nothing left worth waiting for.
        void worker.terminate();
      }
    });
    worker.on('error', (err) => {
      this.deps.log.error({ err: err.message }, 'command thread failed');
      if (!ready) onFail?.(err);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.stopping) return;
      if (!ready) {
        onFail?.(new Error(`command thread exited before it was ready (code ${code})`));
        return;
      }
      const delay = Date.now() - this.startedAt < QUICK_DEATH_MS ? 1_000 : 0;
      this.deps.log.error({ code, restartInMs: delay }, 'command thread exited; restarting it');
      setTimeout(() => this.spawn(), delay).unref();
    });
  }
}
