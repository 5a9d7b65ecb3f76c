// A stand-in for src/command-thread-main.ts, in plain JavaScript so a worker thread can load it
// without a TypeScript hook: it speaks the same protocol, and dies on the command text "crash".
const { parentPort } = require('node:worker_threads');

parentPort.on('message', (m) => {
  if (m.type === 'command') {
    parentPort.postMessage({ type: 'started', id: m.id });
    if (m.job.text === 'crash') process.exit(3);
    parentPort.postMessage({
      type: 'finished',
      id: m.id,
      outcome: { command: m.job.text, outcome: 'ok', seconds: 0 },
    });
  } else if (m.type === 'stop') {
    parentPort.postMessage({ type: 'stopped' });
  }
});
parentPort.postMessage({ type: 'ready' });
