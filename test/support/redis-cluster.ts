import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dataNodes, type RedisClient } from '../../src/store/redis-connection';
import { waitFor } from './wait';

const run = promisify(execFile);

/** A local Redis Cluster of three masters (no replicas), started for a test file and torn down after it. */
export interface LocalCluster {
  ports: number[];
  /** `REDIS_CLUSTER_NODES` for it: `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  nodes: string;
  dir: string;
  stop(): Promise<void>;
}

/** A port nothing listens on now (the OS picks it); the cluster bus uses port + 10000, checked too. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port > 0 && port + 10000 <= 65535 && (await portIsFree(port + 10000))) return port;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 30_000,
  });
  return stdout;
}

/**
 * Starts three `redis-server --cluster-enabled yes` on free ports in a temp dir (no persistence: tests
 * only), joins them with `redis-cli --cluster create … --cluster-replicas 0`, and waits until every node
 * says `cluster_state:ok`. Needs only the `redis-server` and `redis-cli` the suite already uses.
 */
export async function startLocalCluster(): Promise<LocalCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'donedone-cluster-'));
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const stop = async () => {
    for (const port of ports) await cli(port, 'shutdown', 'nosave').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      await run(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--appendonly',
          'no',
          '--save',
          '',
          '--dir',
          dir,
          '--logfile',
          join(dir, `redis-${port}.log`),
          '--daemonize',
          'yes',
        ],
        { cwd: dir },
      );
    }
    for (const port of ports)
      await waitFor(async () => (await cli(port, 'ping').catch(() => '')).includes('PONG'));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
    await waitFor(async () => {
      for (const port of ports) {
        if (!(await cli(port, 'cluster', 'info')).includes('cluster_state:ok')) return false;
      }
      return true;
    }, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, nodes: ports.map((p) => `127.0.0.1:${p}`).join(','), dir, stop };
}

/** Deletes every key under `prefix`, on every master of a cluster (or the one Redis), one key at a time. */
export async function deleteKeysUnder(redis: RedisClient, prefix: string): Promise<void> {
  for (const node of await dataNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      // One key a command: several keys in one DEL must share a slot on a cluster.
      if (keys.length > 0) {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        await pipeline.exec();
      }
      cursor = next;
    } while (cursor !== '0');
  }
}
