import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { CatalogEntry } from './domain/catalog';
import type {
  AnswerEphemerally,
  CommandJob,
  CommandOutcome,
} from './slack/listeners/commands/donedone-command';

/** From the main thread to the command thread. */
export type ToCommandThread = { type: 'command'; id: number; job: CommandJob } | { type: 'stop' };
/** From the command thread to the main thread. */
export type FromCommandThread =
  | { type: 'ready' }
  | { type: 'started'; id: number }
  | { type: 'finished'; id: number; outcome?: CommandOutcome }
  | { type: 'stopped' };

/** What the command thread is started with (structured-cloned: plain data only). */
export interface CommandThreadData {
  config: Config;
  catalog: CatalogEntry[];
}

/** A thread that dies this soon after starting is restarted after a pause, so a crash cannot spin. */
const QUICK_DEATH_MS = 5_000;
const STOP_TIMEOUT_MS = 25_000;

export const INTERRUPTED_TEXT =
  ':warning: donedone restarted while doing this, so it may be half done. ' +
  'Look with `/donedone list` or `/donedone show F-…` before you try again.';

/**
 * The thread where acknowledged slash commands do their work (Redis, telemetry, Web API posts).
 * The main thread only verifies, parses and acknowledges, so the work of earlier commands (and its
 * garbage) never delays the next acknowledgement: Slack wants one within 3 s, and people feel
 * every millisecond before "/donedone" answers.
 *
 * A thread that dies is restarted. Commands it had not started are given to the new thread;
 * commands it was in the middle of are not run twice (a propose would post two cards): their
 * askers are told it may be half done.
 */
export class CommandThread {
  private worker: Worker | undefined;
  private nextId = 0;
  /** Handed to the current thread and not finished, by id; `started` once it said so. */
  private inFlight = new Map<number, { job: CommandJob; started: boolean }>();
  private waiting: CommandJob[] = [];
  private stopping = false;

  constructor(
    private readonly deps: {
      data: CommandThreadData;
      log: Logger;
      counted: (outcome: CommandOutcome) => void;
      /** Tells an asker something through a response_url (used when a thread dies mid-command). */
      answer: AnswerEphemerally;
      /** The thread's script; tests give their own. */
      entry?: string;
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
    if (!this.worker) {
      this.waiting.push(job);
      return;
    }
    const id = ++this.nextId;
    this.inFlight.set(id, { job, started: false });
    this.worker.postMessage({ type: 'command', id, job } satisfies ToCommandThread);
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
    const entry = this.deps.entry ?? join(__dirname, `command-thread-main${extname(__filename)}`);
    const worker = new Worker(entry, { workerData: this.deps.data });
    const startedAt = Date.now();
    let ready = false;
    worker.on('message', (m: FromCommandThread) => {
      if (m.type === 'ready') {
        ready = true;
        this.worker = worker;
        for (const job of this.waiting.splice(0)) this.run(job);
        onReady?.();
      } else if (m.type === 'started') {
        const entry = this.inFlight.get(m.id);
        if (entry) entry.started = true;
      } else if (m.type === 'finished') {
        this.inFlight.delete(m.id);
        if (m.outcome) this.deps.counted(m.outcome);
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
      const orphans = [...this.inFlight.values()];
      this.inFlight.clear();
      const interrupted = orphans.filter((o) => o.started);
      // Not started: safe to give to the next thread, ahead of anything sent meanwhile.
      this.waiting.unshift(...orphans.filter((o) => !o.started).map((o) => o.job));
      for (const { job } of interrupted) {
        void this.deps.answer(job.responseUrl, { text: INTERRUPTED_TEXT }).catch(() => undefined);
      }
      const delay = Date.now() - startedAt < QUICK_DEATH_MS ? 1_000 : 0;
      this.deps.log.error(
        {
          code,
          restartInMs: delay,
          interrupted: interrupted.length,
          resent: orphans.length - interrupted.length,
        },
        'command thread exited; restarting it',
      );
      setTimeout(() => this.spawn(), delay).unref();
    });
  }
}
