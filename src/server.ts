import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { buildApp, type PulseApp } from './app.js';
import { mintToken } from './auth/jwt.js';
import { loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import type { MigrationResult } from './db/migrate.js';
import { createSessionRunner } from './db/tenant-session.js';
import { createEventBus } from './events/pubsub.js';
import type { Logger } from './logger.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/broker.js';
import type { ServiceClientOptions } from './mqtt/service-client.js';
import { deviceAuthenticator } from './modules/devices/mqtt-auth.js';
import { pulseModules } from './modules/index.js';
import { composeModules } from './platform/compose.js';

export interface RunningPulse {
  app: PulseApp;
  database: Database;
  migrations: MigrationResult;
  broker?: EmbeddedBroker;
  port: number;
  url: string;
  /** Prefilled in GraphiQL when the development secret is in use. */
  developmentToken?: string;
  /** Drains the app, then closes the broker and the database: the reverse of start-up. */
  stop(): Promise<void>;
}

export interface StartOptions {
  autoStartWorkers?: boolean;
  /** Sees every SQL statement (query-count tests). */
  onQuery?: (sql: string) => void;
}

/** The configuration with every module's section: what `main.ts` and the tests start from. */
export function loadPulseConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig(environment, pulseModules);
}

/** config → database (migrations) → broker → app. Shared by `main.ts` and the smoke tests. */
export async function startPulse(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningPulse> {
  const { database, migrations } = await openDatabase(
    config.database.kind === 'postgres'
      ? { ...config.database, onQuery: options.onQuery }
      : { kind: 'pglite', dataDir: config.database.dataDir, onQuery: options.onQuery },
    logger,
  );
  logger.info({ database: database.kind, applied: migrations.applied, upToDate: migrations.alreadyApplied.length }, 'migrations checked');
  let broker: EmbeddedBroker | undefined;
  try {
    let mqtt: ServiceClientOptions;
    if (config.mqtt.kind === 'embedded') {
      const service = { username: 'pulse-server', password: randomBytes(24).toString('base64url') };
      // Device logins are checked in a service-scoped session; they publish no events.
      const authRunner = createSessionRunner(database, createEventBus(), logger);
      const modules = composeModules(pulseModules);
      broker = await startEmbeddedBroker({
        port: config.mqtt.port,
        topics: modules.topics,
        deviceWill: modules.deviceWill,
        logger,
        authenticateDevice: deviceAuthenticator(authRunner),
        serviceCredentials: service,
      });
      mqtt = { url: broker.url, ...service, clientId: `pulse-${hostname()}`, protocolVersion: 4 };
    } else {
      mqtt = {
        url: config.mqtt.url,
        username: config.mqtt.username,
        password: config.mqtt.password,
        clientId: config.mqtt.clientId ?? `pulse-${hostname()}`,
        protocolVersion: 5,
      };
    }
    const developmentToken = await mintDevelopmentToken(config, logger);
    const embedded = broker;
    const deviceSessions = embedded && { disconnect: (tenantId: string, deviceId: string) => void embedded.disconnectDevice(tenantId, deviceId) };
    const app = buildApp({ config, logger, database, mqtt, graphiqlToken: developmentToken, autoStartWorkers: options.autoStartWorkers, deviceSessions });
    const { port, url } = await app.start();
    return {
      app,
      database,
      migrations,
      broker,
      port,
      url,
      developmentToken,
      async stop() {
        await app.stop();
        await broker?.close();
        await database.close();
      },
    };
  } catch (error) {
    await broker?.close();
    await database.close();
    throw error;
  }
}

/** With no JWT_SECRET, mint a development token for tenant "demo" and say so loudly. */
async function mintDevelopmentToken(config: Config, logger: Logger): Promise<string | undefined> {
  if (config.auth.kind !== 'secret' || !config.auth.isDevelopmentSecret) return undefined;
  const token = await mintToken(config.auth.secret, { tenantId: 'demo', role: 'customer', subject: 'developer@demo' }, '30d');
  logger.warn(
    { developmentToken: token },
    'JWT_SECRET is not set: using the development secret. GraphiQL is prefilled with a token for tenant "demo"; mint others with `npm run token -- --tenant <id> --role <role>`.',
  );
  return token;
}
