import { ConfigError } from './config.js';
import { MigrationError } from './db/migrate.js';
import { createLogger } from './logger.js';
import { loadPulseConfig, startPulse } from './server.js';

/** Start-up and shutdown of the process; the wiring itself is in `server.ts`. */
async function main(): Promise<void> {
  const config = loadPulseConfig();
  const logger = createLogger(config.logLevel, process.stdout.isTTY);
  const pulse = await startPulse(config, logger);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests, closing MQTT and the database');
    await pulse.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  const message = error instanceof MigrationError ? `Start-up stopped: ${error.message}` : `Start-up failed: ${error instanceof Error ? error.stack : String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
