import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ROOT } from '../support/deploy-files';

/** Runs scripts/local-redis.sh as `npm run up` does; never throws. */
function localRedis(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(ROOT, 'scripts', 'local-redis.sh')],
      { env: { ...base, ...env }, timeout: 20_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout: stdout.trim(), stderr }),
    );
  });
}

async function settings(url: string): Promise<string> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const [, aof] = (await r.config('GET', 'appendonly')) as string[];
    const [, policy] = (await r.config('GET', 'maxmemory-policy')) as string[];
    return `${aof} ${policy}`;
  } finally {
    r.disconnect();
  }
}

let dir: string;
const started: string[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dd-up-redis-'));
});
afterEach(async () => {
  for (const url of started.splice(0)) {
    const r = new Redis(url, { maxRetriesPerRequest: 1 });
    await r.shutdown('NOSAVE').catch(() => undefined);
    r.disconnect();
  }
  rmSync(dir, { recursive: true, force: true });
});

it('without REDIS_URL it never reuses a Redis that could lose data: it starts its own, then reuses that one', async () => {
  const shared = await settings('redis://127.0.0.1:6379');
  const first = await localRedis({ DONEDONE_REDIS_DIR: dir });
  expect(first.code).toBe(0);
  if (shared === 'yes noeviction') {
    // A machine whose own Redis already keeps everything: that one is used.
    expect(first.stdout).toBe('redis://127.0.0.1:6379');
    return;
  }
  started.push(first.stdout);
  expect(first.stderr).toContain('leaving it alone');
  expect(first.stdout).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  expect(first.stdout).not.toBe('redis://127.0.0.1:6379');
  expect(await settings(first.stdout)).toBe('yes noeviction');
  expect(readFileSync(join(dir, 'redis.port'), 'utf8').trim()).toBe(new URL(first.stdout).port);

  const again = await localRedis({ DONEDONE_REDIS_DIR: dir });
  expect(again).toMatchObject({ code: 0, stdout: first.stdout });
  expect(again.stderr).toContain('Using the Redis started earlier');
});

it('a REDIS_URL that could lose data is refused, naming what to set, unless the loss is accepted', async () => {
  // A Redis that keeps nothing and evicts, like a cache.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
  const volatile = `redis://127.0.0.1:${port}`;
  spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'allkeys-lru',
    ],
    { stdio: 'ignore' },
  );
  started.push(volatile);
  for (let i = 0; i < 50 && (await settings(volatile).catch(() => '')) === ''; i++)
    await new Promise((r) => setTimeout(r, 50));

  const refused = await localRedis({ REDIS_URL: volatile, DONEDONE_REDIS_DIR: dir });
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toContain('appendonly/maxmemory-policy: no allkeys-lru');
  expect(refused.stderr).toContain("Set 'appendonly yes' and 'maxmemory-policy noeviction'");
  const accepted = await localRedis({
    REDIS_URL: volatile,
    DONEDONE_ALLOW_VOLATILE_REDIS: '1',
    DONEDONE_REDIS_DIR: dir,
  });
  expect(accepted).toMatchObject({ code: 0, stdout: volatile });
});

it('a REDIS_URL that keeps its data is used as given; one where nothing answers stops the start', async () => {
  const own = await localRedis({ DONEDONE_REDIS_DIR: dir });
  expect(own.code).toBe(0);
  if (own.stdout !== 'redis://127.0.0.1:6379') started.push(own.stdout);
  expect(await localRedis({ REDIS_URL: own.stdout, DONEDONE_REDIS_DIR: dir })).toMatchObject({
    code: 0,
    stdout: own.stdout,
  });
  const nowhere = await localRedis({ REDIS_URL: 'redis://127.0.0.1:9', DONEDONE_REDIS_DIR: dir });
  expect(nowhere.code).toBe(1);
  expect(nowhere.stderr).toContain('nothing answers there');
});
