/**
 * Process start-up and shutdown; the wiring itself is in `server.ts`. The first line is printed
 * before the heavy imports (schema, Prisma, PGlite), and a port that is taken is found before
 * any database work, so a mistake costs a second, not a full start-up.
 */
import { createServer } from 'node:net';
import v8 from 'node:v8';
import { ConfigError, loadPlatformConfig, type PlatformConfig } from './config.js';
import { MigrationError } from './db/migrate.js';
import { createLogger, resolveLogFormat, type LogFormat, type Logger } from './logger.js';

/** sysexits.h EX_CONFIG: the configuration is wrong (bad variable, taken port). */
const EX_CONFIG = 78;
const startedAt = performance.now();

/** Stops with one readable message and no stack trace. */
function exit(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** A port another process holds, and the variable that chooses it. */
class PortTakenError extends Error {
  constructor(
    readonly port: number,
    readonly variable: 'PORT' | 'MQTT_PORT',
    readonly reason: 'in use' | 'not permitted',
  ) {
    const what = variable === 'PORT' ? 'Pulse serves HTTP and GraphQL' : 'the embedded MQTT broker listens';
    const hint =
      variable === 'PORT'
        ? `Stop what holds it (another Pulse?) or choose another port: PORT=${port + 1} npm start`
        : `Stop what holds it (Mosquitto, another Pulse?) or choose another port: MQTT_PORT=${port + 1} npm start (or use that broker: MQTT_URL=mqtt://localhost:${port})`;
    super(
      reason === 'in use'
        ? `Port ${port} is already in use, and ${what} there (${variable}). ${hint}.`
        : `Port ${port} needs privileges this user does not have (${variable}): choose one from 1024 up, e.g. ${variable}=${port < 1024 ? port + 4000 : port + 1}.`,
    );
  }
}

function probePort(port: number, host: string | undefined, variable: 'PORT' | 'MQTT_PORT'): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' || error.code === 'EACCES' ? reject(new PortTakenError(port, variable, error.code === 'EACCES' ? 'not permitted' : 'in use')) : reject(error),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** The ports this start will listen on, checked now (a start-up can still lose a race, see below). */
async function checkPorts(config: PlatformConfig): Promise<void> {
  await probePort(config.http.port, config.http.host, 'PORT');
  // The embedded broker binds every interface (broker.ts passes no host).
  if (config.mqtt.kind === 'embedded') await probePort(config.mqtt.port, undefined, 'MQTT_PORT');
}

/** A listen that lost the race after the check: the same message as the check's. */
function asPortTaken(error: unknown, config: PlatformConfig): PortTakenError | undefined {
  const failure = error as NodeJS.ErrnoException & { port?: number };
  if (failure?.code !== 'EADDRINUSE' && failure?.code !== 'EACCES') return undefined;
  const variable = failure.port === config.http.port ? 'PORT' : 'MQTT_PORT';
  return new PortTakenError(failure.port ?? config.http.port, variable, failure.code === 'EACCES' ? 'not permitted' : 'in use');
}

function describeStart(config: PlatformConfig): string {
  const database = config.database.kind === 'pglite' ? `embedded PostgreSQL in ${config.database.dataDir}` : 'PostgreSQL at DATABASE_URL';
  const broker = config.mqtt.kind === 'embedded' ? `embedded MQTT broker on port ${config.mqtt.port}` : 'MQTT broker at MQTT_URL';
  return `Pulse is starting: ${database}, ${broker}, GraphQL on port ${config.http.port}`;
}

/** What a newcomer needs, in one place: where to point a browser and a device, and the token. */
function announceReady(logger: Logger, format: LogFormat, ready: { url: string; mqttUrl: string; developmentToken?: string; seconds: number }): void {
  const graphql = ready.url;
  const mqtt = ready.mqttUrl.replace('//127.0.0.1:', '//localhost:');
  if (format === 'json') {
    logger.info({ fleetUrl: graphql.replace(/\/graphql$/, '/'), graphqlUrl: graphql, mqttUrl: mqtt, developmentToken: ready.developmentToken, seconds: ready.seconds }, 'Pulse is ready');
    return;
  }
  if (logger.level === 'silent') return;
  const lines = [
    '',
    `  Pulse is ready (started in ${ready.seconds} s)`,
    '',
    `  Fleet     ${graphql.replace(/\/graphql$/, '/')}   (live fleet page)`,
    `  GraphQL   ${graphql}   (open it in a browser for GraphiQL)`,
    `  MQTT      ${mqtt}`,
    `  Health    ${graphql.replace(/\/graphql$/, '/ready')}   metrics: ${graphql.replace(/\/graphql$/, '/metrics')}`,
  ];
  if (ready.developmentToken) {
    lines.push(
      '',
      '  Development token for tenant "demo" (GraphiQL has it in its Headers panel; valid 30 days):',
      '',
      ready.developmentToken,
      '',
      '  Others: npm run token -- --tenant <id> --role customer|operator|iot_service',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

async function main(): Promise<void> {
  let format: LogFormat;
  try {
    format = resolveLogFormat(process.env, Boolean(process.stdout.isTTY));
  } catch (error) {
    exit(`Invalid configuration:\n  - ${(error as Error).message}`, EX_CONFIG);
  }
  let platform: PlatformConfig;
  try {
    platform = loadPlatformConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The modules' variables are checked too, so one message lists every problem.
    const { loadPulseConfig } = await import('./server.js');
    try {
      loadPulseConfig();
    } catch (full) {
      if (full instanceof ConfigError) exit(full.message, EX_CONFIG);
    }
    exit(error.message, EX_CONFIG);
  }
  const logger = createLogger(platform.logLevel, format);
  logger.info(describeStart(platform));
  try {
    await checkPorts(platform);
  } catch (error) {
    if (error instanceof PortTakenError) exit(error.message, EX_CONFIG);
    throw error;
  }
  if (platform.database.kind === 'pglite') {
    // PGlite is PostgreSQL compiled to WebAssembly. V8's optimising tier recompiles its hot
    // functions, and those of Prisma's query compiler, on top of the baseline code: some 70 MB
    // more resident memory for no measurable gain on the embedded default's queries (BENCHMARKS.md).
    // Set before the first WebAssembly module is compiled, which the imports below do.
    v8.setFlagsFromString('--liftoff-only');
  }
  logger.info('loading the modules and building the schema');
  const { loadPulseConfig, startPulse } = await import('./server.js');
  let pulse: Awaited<ReturnType<typeof startPulse>>;
  try {
    pulse = await startPulse(loadPulseConfig(), logger);
  } catch (error) {
    if (error instanceof ConfigError) exit(error.message, EX_CONFIG);
    const taken = asPortTaken(error, platform);
    if (taken) exit(taken.message, EX_CONFIG);
    throw error;
  }
  announceReady(logger, format, {
    url: pulse.url,
    mqttUrl: pulse.mqttUrl,
    developmentToken: pulse.developmentToken,
    seconds: Number(((performance.now() - startedAt) / 1000).toFixed(1)),
  });
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
  if (error instanceof MigrationError) exit(`Start-up stopped: ${error.message}`, 1);
  const message = error instanceof Error ? error.message : String(error);
  // The stack is for whoever debugs Pulse itself; LOG_LEVEL=debug shows it.
  const stack = process.env['LOG_LEVEL'] === 'debug' || process.env['LOG_LEVEL'] === 'trace' ? `\n${error instanceof Error ? error.stack : ''}` : '\n(LOG_LEVEL=debug shows the stack trace)';
  exit(`Start-up failed: ${message}${stack}`, 1);
});
