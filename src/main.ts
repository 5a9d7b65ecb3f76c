import { createDonedone } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './log';
import { CatalogError, loadCatalogFromEnv } from './telemetry/load-catalog';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  let catalog: Awaited<ReturnType<typeof loadCatalogFromEnv>>;
  try {
    config = loadConfig(process.env);
    catalog = await loadCatalogFromEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CatalogError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // A stray rejection is logged, never a crash: a chat bot that dies drops everyone's commands.
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled rejection');
  });
  // DONEDONE_ROLE: `web` acknowledges and queues Slack's requests, `worker` runs them and the
  // scheduled jobs, `all` both in this process. Any number of each share one Redis.
  const donedone = createDonedone({ config, catalog, logger: log });
  let stopping = false;
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  const { port } = await donedone.start();
  log.info(
    {
      port,
      role: config.role,
      mode: config.slack.appToken ? 'socket' : 'http',
      workspaces: config.oauth ? 'many (OAuth install at /slack/install)' : 'one (SLACK_BOT_TOKEN)',
      catalog: catalog.length,
    },
    'donedone is running',
  );

  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new work, finishing what runs');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await donedone.stop();
    log.info('stopped');
    process.exit(0);
  }
}

main().catch((err) => {
  process.stderr.write(`donedone failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
