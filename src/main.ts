import { createDonedone } from './app';
import { CommandThread } from './command-thread';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './log';
import { answerEphemerally, countCommand } from './slack/listeners/commands/donedone-command';
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
    log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
  });
  // Acknowledged commands do their work on the command thread, away from the thread that acks;
  // the runner is only called for requests, which come after both exist.
  const donedone = createDonedone({
    config,
    catalog,
    logger: log,
    commandRunner: (job) => commandThread.run(job),
  });
  const commandThread = new CommandThread({
    data: { config, catalog },
    log,
    counted: countCommand(donedone.metrics),
    answer: answerEphemerally,
  });
  await commandThread.start();
  const { port } = await donedone.start();
  log.info(
    { port, mode: config.slack.appToken ? 'socket' : 'http', catalog: catalog.length },
    'donedone is running',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new work, finishing what runs');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await donedone.stop();
    await commandThread.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`donedone failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
