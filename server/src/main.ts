import './compile-cache';
import 'reflect-metadata';
import { createApp } from './app.factory';
import { prepareContext, resolveDatabase } from './bootstrap';
import { UsersService } from './auth/users.service';
import { ConfigError, loadConfig } from './config/app-config';
import { createLogger } from './common/logging/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`backflow: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const database = await resolveDatabase(config, logger);
  let stopping = false;
  const stopDatabase = async () => {
    await database.embedded?.stop();
  };
  try {
    const context = await prepareContext(config, logger, database.url);
    const app = await createApp(context);
    await app.get(UsersService).ensureFirstAdmin();
    await app.listen({ port: config.port, host: config.host });
    logger.info({ url: `http://localhost:${config.port}`, embeddedDatabase: Boolean(database.embedded) }, 'Backflow is listening');

    const shutdown = async (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 30_000).unref();
      try {
        await app.close();
        await stopDatabase();
      } finally {
        clearTimeout(force);
        process.exit(0);
      }
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, (s) => void shutdown(s));
  } catch (error) {
    logger.fatal({ err: error }, 'Backflow failed to start');
    await stopDatabase();
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`backflow: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
