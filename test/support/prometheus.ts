import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GeneratedSeries, generateHistory, toOpenMetrics } from '../fixtures/history';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface RunningPrometheus {
  url: string;
  process: ChildProcess;
  dir: string;
}

/**
 * Starts a real Prometheus (Debian's package) on a free port, loaded with the known history
 * (the shared one, or a test's own) through `promtool tsdb create-blocks-from openmetrics`.
 * `scrape` adds targets scraped every second: backfilled blocks keep no metadata (HELP, TYPE),
 * which Prometheus learns only by scraping.
 */
export async function startPrometheus(
  opts: { history?: GeneratedSeries[]; scrape?: string[] } = {},
): Promise<RunningPrometheus> {
  const history = opts.history ?? generateHistory();
  const dir = mkdtempSync(join(tmpdir(), 'donedone-prom-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const input = join(dir, 'history.om');
  writeFileSync(input, toOpenMetrics(history));
  execFileSync(
    'promtool',
    ['tsdb', 'create-blocks-from', 'openmetrics', input, data, '--max-block-duration=720h'],
    {
      stdio: 'pipe',
    },
  );
  const config = join(dir, 'prometheus.yml');
  const scrape = opts.scrape?.length
    ? `scrape_configs:\n  - job_name: exporter\n    scrape_interval: 1s\n    static_configs:\n      - targets: [${opts.scrape.map((t) => `'${t}'`).join(', ')}]\n`
    : '';
  writeFileSync(config, `global:\n  scrape_interval: 1m\n${scrape}`);
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${port}`,
      '--query.lookback-delta=5m',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return { url, process: child, dir };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`prometheus did not become ready in 30 s:\n${log}`);
}

export function stopPrometheus(running: RunningPrometheus): void {
  running.process.kill('SIGTERM');
  rmSync(running.dir, { recursive: true, force: true });
}
