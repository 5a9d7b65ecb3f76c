import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createDonedone } from './app';
import type { CommandThreadData, FromCommandThread, ToCommandThread } from './command-thread';
import { createLogger } from './log';
import type { CommandOutcome } from './slack/listeners/commands/donedone-command';

/** The command thread (see command-thread.ts): its own Redis connections, clients and clock. */
if (!parentPort)
  throw new Error('command-thread-main runs only as a worker thread; start donedone with `npm start`');
const port = parentPort;
const { config, catalog } = workerData as CommandThreadData;
const log = createLogger(config.logLevel).child({ thread: 'commands' });
process.on('unhandledRejection', (reason) => {
  log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
});
lowerThisThreadsPriority();
const donedone = createDonedone({ config, catalog, logger: log, serve: false, worker: false });
const send = (m: FromCommandThread) => port.postMessage(m);
let running = 0;
let stopping = false;
let stopped = false;

async function stopWhenIdle(): Promise<void> {
  if (running > 0 || stopped) return;
  stopped = true;
  await donedone.stop();
  send({ type: 'stopped' });
  port.close();
}

port.on('message', (m: ToCommandThread) => {
  if (m.type === 'command') {
    running++;
    send({ type: 'started', id: m.id });
    let outcome: CommandOutcome | undefined;
    void donedone
      .runCommand(m.job, (o) => {
        outcome = o;
      })
      .finally(() => {
        send({ type: 'finished', id: m.id, ...(outcome ? { outcome } : {}) });
        running--;
        if (stopping) void stopWhenIdle();
      });
  } else if (m.type === 'stop') {
    stopping = true;
    void stopWhenIdle();
  }
});
log.info('command thread ready');
send({ type: 'ready' });

/**
 * Runs this thread at nice 10, so that when the machine is busy the thread that acknowledges
 * Slack gets the CPU first. Linux schedules threads one by one; /proc/thread-self names this one.
 * Elsewhere (or where it is refused) the threads simply share the CPU as equals.
 */
function lowerThisThreadsPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or not allowed: nothing to do.
  }
}
