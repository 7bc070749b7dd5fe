import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { buildApp } from './app.js';
import { mintToken } from './auth/jwt.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/database.js';
import { MigrationError } from './db/migrate.js';
import { createSessionRunner } from './db/tenant-session.js';
import { createEventBus } from './events/pubsub.js';
import { createLogger, type Logger } from './logger.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/broker.js';
import type { ServiceClientOptions } from './mqtt/service-client.js';
import { deviceAuthenticator } from './modules/devices/mqtt-auth.js';

/** config → database (migrations) → broker → app; SIGINT/SIGTERM → drain and close in reverse. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, process.stdout.isTTY);
  const { database, migrations } = await openDatabase(
    config.database.kind === 'postgres'
      ? { kind: 'postgres', url: config.database.url, migrationUrl: config.database.migrationUrl, poolSize: config.database.poolSize }
      : { kind: 'pglite', dataDir: config.database.dataDir },
    logger,
  );
  logger.info({ database: database.kind, applied: migrations.applied, upToDate: migrations.alreadyApplied.length }, 'migrations checked');

  let broker: EmbeddedBroker | undefined;
  let mqtt: ServiceClientOptions;
  if (config.mqtt.kind === 'embedded') {
    const service = { username: 'pulse-server', password: randomBytes(24).toString('base64url') };
    // Credentials are checked through a tenant session of their own; the app's bus is not needed.
    const authRunner = createSessionRunner(database, createEventBus(), logger);
    broker = await startEmbeddedBroker({
      port: config.mqtt.port,
      logger: logger.child({ module: 'broker' }),
      authenticateDevice: deviceAuthenticator(authRunner),
      serviceCredentials: service,
    });
    mqtt = { url: broker.url, ...service, clientId: `pulse-${hostname()}`, protocolVersion: 4 };
    logger.info({ port: broker.port }, 'embedded MQTT broker listening');
  } else {
    mqtt = {
      url: config.mqtt.url,
      username: config.mqtt.username,
      password: config.mqtt.password,
      clientId: config.mqtt.clientId ?? `pulse-${hostname()}`,
      protocolVersion: 5,
    };
  }

  const graphiqlToken = await developmentToken(config, logger);
  const app = buildApp({ config, logger, database, mqtt, graphiqlToken });
  await app.start();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await app.stop();
    await broker?.close();
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** With no JWT_SECRET, print a development token and prefill GraphiQL with it. */
async function developmentToken(config: Config, logger: Logger): Promise<string | undefined> {
  if (config.auth.kind !== 'secret' || !config.auth.isDevelopmentSecret) return undefined;
  const token = await mintToken(config.auth.secret, { tenantId: 'demo', role: 'customer', subject: 'developer@demo' }, '30d');
  logger.warn(
    { developmentToken: token },
    'JWT_SECRET is not set: using the development secret. GraphiQL is prefilled with a token for tenant "demo"; mint others with `npm run token -- --tenant <id> --role <role>`.',
  );
  return token;
}

main().catch((error: unknown) => {
  const message = error instanceof MigrationError ? `Start-up stopped: ${error.message}` : `Start-up failed: ${String(error instanceof Error ? error.stack : error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
