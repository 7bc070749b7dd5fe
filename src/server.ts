import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp, type PulseApp } from './app.js';
import { mintToken } from './auth/jwt.js';
import { loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import type { MigrationResult } from './db/migrate.js';
import { createSessionRunner } from './db/tenant-session.js';
import { createEventBus } from './events/pubsub.js';
import { serviceScope } from './kernel/scope.js';
import type { Logger } from './logger.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/broker.js';
import type { ServiceClientOptions } from './mqtt/service-client.js';
import { demoWanted, resetDemoTenant, startDemo, type RunningDemo } from './modules/demo/demo.js';
import { deviceAuthenticator } from './modules/devices/mqtt-auth.js';
import { pulseModules } from './modules/index.js';
import { retainedDesiredMessages } from './modules/twin/retained.js';
import { composeModules } from './platform/compose.js';

export interface RunningPulse {
  app: PulseApp;
  database: Database;
  migrations: MigrationResult;
  broker?: EmbeddedBroker;
  port: number;
  url: string;
  /** What devices connect to: the embedded broker's URL, or `MQTT_URL`. */
  mqttUrl: string;
  /** Prefilled in GraphiQL when the development secret is in use. */
  developmentToken?: string;
  /** The demo fleet's simulated devices, when the demo runs (`DEMO`). */
  demo?: RunningDemo;
  /** Stops the demo, drains the app, then closes the broker and the database: the reverse of start-up. */
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

/**
 * PGlite's PostgreSQL starts with 128 MB of shared buffers by default, resident for the life of
 * the process; the embedded default's data fits in a fraction of that. `ALTER SYSTEM` keeps the
 * setting in the data directory: set when the directory is created, and on an older directory
 * (from the next start on).
 */
const PGLITE_SETTINGS: Record<string, string> = { shared_buffers: '16MB' };

/**
 * Creates the embedded database's directory in a child process. PGlite runs initdb in a second
 * WebAssembly instance and loads its output through memory; WebAssembly memory never shrinks, so
 * in the server's own process that first start left about 500 MB resident for good. The child
 * also stores {@link PGLITE_SETTINGS}, so the first start runs with them too.
 */
async function createPgliteDataDir(dataDir: string): Promise<void> {
  const settings = Object.entries(PGLITE_SETTINGS).map(([name, value]) => `ALTER SYSTEM SET ${name} = '${value}';`).join(' ');
  const script = `
    const { PGlite } = await import(process.argv[1]);
    const db = await PGlite.create(process.argv[2]);
    await db.exec(${JSON.stringify(settings)});
    await db.close();`;
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  await new Promise<void>((resolve, reject) => {
    // A plain Node process: the TypeScript loader the server may run under is not needed there.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, pglite, dataDir], { stdio: ['ignore', 'ignore', 'pipe'], env: {} });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`creating the embedded PostgreSQL in ${dataDir} failed: ${stderr.trim().split('\n').at(-1) || `exit code ${code}`}`))));
  });
}

async function tunePglite(database: Database, logger: Logger): Promise<void> {
  for (const [name, value] of Object.entries(PGLITE_SETTINGS)) {
    const [current] = await database.prisma.$queryRawUnsafe<Array<{ setting: string }>>(`SELECT current_setting('${name}') AS setting`);
    if (current?.setting === value) continue;
    await database.prisma.$executeRawUnsafe(`ALTER SYSTEM SET ${name} = '${value}'`);
    logger.debug({ name, value, current: current?.setting }, 'embedded PostgreSQL setting stored for the next start');
  }
}

/** config → database (migrations) → broker → app → demo. Shared by `main.ts` and the smoke tests. */
export async function startPulse(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningPulse> {
  if (config.database.kind === 'pglite') {
    const dataDir = path.resolve(config.database.dataDir);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      logger.info({ dataDir }, 'creating the embedded PostgreSQL (first start: this takes a few seconds)');
      await mkdir(dataDir, { recursive: true });
      await createPgliteDataDir(dataDir);
    }
    logger.info({ dataDir }, 'opening the embedded PostgreSQL and checking migrations');
  } else {
    logger.info({ database: describeUrl(config.database.url) }, 'connecting to PostgreSQL and checking migrations');
  }
  const { database, migrations } = await openDatabase(
    config.database.kind === 'postgres'
      ? { ...config.database, onQuery: options.onQuery }
      : { kind: 'pglite', dataDir: config.database.dataDir, onQuery: options.onQuery },
    logger,
  );
  logger.info(
    { database: database.kind, applied: migrations.applied.length, upToDate: migrations.alreadyApplied.length },
    migrations.applied.length > 0 ? `database ready: ${migrations.applied.length} migrations applied` : 'database ready: migrations up to date',
  );
  let broker: EmbeddedBroker | undefined;
  let demo: RunningDemo | undefined;
  let app: PulseApp | undefined;
  try {
    if (database.kind === 'pglite') await tunePglite(database, logger);
    const demoOn = demoWanted(config.demo.mode, database.kind, config.nodeEnv);
    // Before the broker restores retained messages, so none of the old demo's survives the reset.
    if (config.demo.mode === 'reset') await resetDemoTenant(database, logger);
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
        // The broker keeps retained messages in memory: every device's desired twin comes back from the database.
        retained: await authRunner.run(serviceScope('embedded-broker'), (session) => retainedDesiredMessages(session)),
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
    app = buildApp({ config, logger, database, mqtt, graphiqlToken: developmentToken, autoStartWorkers: options.autoStartWorkers, deviceSessions });
    const { port, url } = await app.start();
    const mqttUrl = broker?.url ?? mqtt.url;
    if (demoOn) demo = await runDemo(config, logger, { port, mqttUrl });
    const started = app;
    return {
      app: started,
      database,
      migrations,
      broker,
      port,
      url,
      mqttUrl,
      developmentToken,
      demo,
      async stop() {
        await demo?.stop();
        await started.stop();
        await broker?.close();
        await database.close();
      },
    };
  } catch (error) {
    await demo?.stop();
    await app?.stop();
    await broker?.close();
    await database.close();
    throw error;
  }
}

/**
 * Seeds (once) and animates tenant `demo` through the API on loopback, with a token of its own.
 * A demo that cannot start is reported, never a reason to refuse to serve.
 */
async function runDemo(config: Config, logger: Logger, target: { port: number; mqttUrl: string }): Promise<RunningDemo | undefined> {
  if (config.auth.kind !== 'secret') {
    logger.warn('DEMO is on, but tokens come from JWKS_URL: the demo cannot sign in, so it does not run');
    return undefined;
  }
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  const graphqlUrl = `http://${host.includes(':') ? `[${host}]` : host}:${target.port}/graphql`;
  const token = await mintToken(config.auth.secret, { tenantId: 'demo', role: 'customer', subject: 'demo-operator' }, '30d');
  try {
    return await startDemo({ graphqlUrl, token, mqttUrl: target.mqttUrl, logger });
  } catch (error) {
    logger.warn({ err: error }, 'the demo fleet could not start; Pulse serves without it (DEMO=false silences this)');
    return undefined;
  }
}

/** With no JWT_SECRET, mint a development token for tenant "demo" (main.ts prints it in the ready banner). */
async function mintDevelopmentToken(config: Config, logger: Logger): Promise<string | undefined> {
  if (config.auth.kind !== 'secret' || !config.auth.isDevelopmentSecret) return undefined;
  logger.warn('JWT_SECRET is not set: tokens are signed with the development secret. Fine on your machine, never in production.');
  return mintToken(config.auth.secret, { tenantId: 'demo', role: 'customer', subject: 'developer@demo' }, '30d');
}

/** A connection URL without its password, for logs. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = parsed.password ? '***' : '';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
