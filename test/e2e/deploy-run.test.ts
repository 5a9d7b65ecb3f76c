import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import pino from 'pino';
import { warnAboutRedis } from '../../src/app';
import { type RunningBot, startBot } from '../support/bot';
import { type Manifest, ROOT, readYaml } from '../support/deploy-files';

const run = promisify(execFile);
const compose = readYaml(join(ROOT, 'compose.yaml'))[0]!;
const services = compose.services as Record<string, Manifest>;

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

/** Resolves once something accepts connections on the port. */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Exit code of a command (0 when it succeeded). */
async function exitCode(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    await run(file, args, { env, timeout: 10_000 });
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe('compose’s Redis, run with the very flags compose.yaml gives it', () => {
  let child: ChildProcess;
  let dir: string;
  let port: number;
  let redis: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dd-compose-redis-'));
    port = await freePort();
    const [binary, ...flags] = services.redis!.command as string[];
    // Only where it listens and writes differ from the container.
    child = spawn(binary!, [...flags, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], {
      stdio: 'ignore',
    });
    redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    for (let i = 0; i < 100; i++) {
      try {
        await redis.connect();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  afterAll(async () => {
    redis.disconnect();
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('persists to an append-only file, never evicts, and the bot has no warning for it', async () => {
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await warnAboutRedis(redis, pino({ level: 'silent' }))).toEqual([]);
  });

  it('its health check answers', async () => {
    const [kind, binary, ...args] = services.redis!.healthcheck.test as string[];
    expect(kind).toBe('CMD');
    const { stdout } = await run(binary!, ['-p', String(port), ...args]);
    expect(stdout.trim()).toBe('PONG');
  });
});

describe('the bot’s health checks, run as Docker and compose run them', () => {
  let bot: RunningBot;
  beforeAll(async () => {
    bot = await startBot();
  });
  afterAll(async () => {
    await bot.stop();
  });
  const port = () => new URL(bot.url).port;

  it('the Dockerfile HEALTHCHECK passes against a ready bot and fails where nothing listens', async () => {
    const line = /^HEALTHCHECK .* CMD (node -e "(.*)")$/m.exec(
      readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
    );
    const script = line![2]!;
    expect(await exitCode(process.execPath, ['-e', script], { ...process.env, PORT: port() })).toBe(0);
    expect(
      await exitCode(process.execPath, ['-e', script], { ...process.env, PORT: String(await freePort()) }),
    ).toBe(1);
  });

  it('compose’s bot health check passes against a ready bot', async () => {
    const [kind, binary, flag, script] = services.bot!.healthcheck.test as string[];
    expect([kind, binary, flag]).toEqual(['CMD', 'node', '-e']);
    // In the container the bot listens on 3000; here on a free port.
    expect(script).toContain('http://127.0.0.1:3000/readyz');
    const here = script!.replace(':3000/', `:${port()}/`);
    expect(await exitCode(process.execPath, ['-e', here])).toBe(0);
    const nowhere = script!.replace(':3000/', `:${await freePort()}/`);
    expect(await exitCode(process.execPath, ['-e', nowhere])).toBe(1);
  });
});

describe('the Kubernetes Redis, run with its StatefulSet’s own arguments', () => {
  it('asks for the password from the Secret, persists to an append-only file and never evicts', async () => {
    const set = readYaml(join(ROOT, 'deploy', 'kubernetes', 'redis', 'statefulset.yaml'))[0]!;
    const args = (set.spec.template.spec.containers[0].args as string[]).map((a) =>
      // Kubernetes expands $(VAR) from the container's env; here the Secret's value is made up.
      a === '$(REDIS_PASSWORD)' ? 'k8s-test-password' : a,
    );
    const dir = mkdtempSync(join(tmpdir(), 'dd-k8s-redis-'));
    const port = await freePort();
    const child = spawn(
      'redis-server',
      [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
    const withPassword = new Redis({
      port,
      host: '127.0.0.1',
      password: 'k8s-test-password',
      lazyConnect: true,
    });
    const without = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableReadyCheck: false,
    });
    try {
      await listening(port);
      await withPassword.connect();
      expect(await withPassword.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await withPassword.config('GET', 'maxmemory-policy')).toEqual([
        'maxmemory-policy',
        'noeviction',
      ]);
      await without.connect().catch(() => undefined);
      await expect(without.get('anything')).rejects.toThrow(/NOAUTH/);
    } finally {
      withPassword.disconnect();
      without.disconnect();
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
