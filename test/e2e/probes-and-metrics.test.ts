import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { type RunningBot, startBot } from '../support/bot';

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A Redis of this test's own, so it can be stopped under a running bot. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start');
}

function stopRedis(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function status(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('probes', () => {
  let bot: RunningBot | undefined;
  let redis: ChildProcess | undefined;
  let dir: string;

  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
    if (redis) await stopRedis(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  it('/livez stays 200 while Redis is away; /readyz and /healthz say 503 until it is back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dd-probes-'));
    const port = await freePort();
    redis = await startRedis(port, dir);
    bot = await startBot({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });

    for (const path of ['/livez', '/readyz', '/healthz'])
      expect((await status(`${bot.url}${path}`)).status).toBe(200);

    await stopRedis(redis);
    expect(await status(`${bot.url}/livez`)).toEqual({ status: 200, body: { ok: true } });
    expect(await status(`${bot.url}/readyz`)).toEqual({ status: 503, body: { ok: false, redis: 'down' } });
    expect(await status(`${bot.url}/healthz`)).toEqual({ status: 503, body: { ok: false, redis: 'down' } });

    redis = await startRedis(port, dir);
    let ready = 0;
    for (let i = 0; i < 50 && ready !== 200; i++) {
      ready = (await status(`${bot.url}/readyz`)).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(200);
  });
});

describe('/metrics names', () => {
  let bot: RunningBot;
  beforeAll(async () => {
    bot = await startBot();
  });
  afterAll(async () => {
    await bot.stop();
  });

  it('serves process metrics under their standard names and donedone’s own under donedone_', async () => {
    const text = await (await fetch(`${bot.url}/metrics`)).text();
    const names = new Set(
      text
        .split('\n')
        .filter((line) => line.startsWith('# TYPE '))
        .map((line) => line.split(' ')[2]!),
    );
    for (const standard of [
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(names).toContain(standard);
    for (const own of [
      'donedone_commands_total',
      'donedone_command_duration_seconds',
      'donedone_checks_total',
      'donedone_telemetry_errors_total',
      'donedone_jobs',
    ])
      expect(names).toContain(own);
    const other = [...names].filter((n) => !/^(process_|nodejs_|donedone_)/.test(n));
    expect(other).toEqual([]);
    expect([...names].filter((n) => /^donedone_(process|nodejs)_/.test(n))).toEqual([]);
  });
});
