/**
 * `npm run bench`: one run, side by side on the same data.
 *
 * Creates a scratch database (dropped at the end), seeds one tenant, starts a private Mosquitto,
 * Pulse (child process, LOG_LEVEL=silent, workers off) and the raw "limits" process, then runs
 * GraphQL reads (vs PostGraphile v5), twin writes (vs raw SQL), subscription fan-out (vs raw ws)
 * and MQTT ingest (vs a raw subscriber) and prints figures and ratios. Knobs: see bench/options.ts
 * and BENCHMARKS.md; `npm run bench -- --json out.json` also writes the rows as JSON.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../src/auth/jwt.js';
import { runCommands } from './commands.js';
import type { BenchContext } from './context.js';
import { runFanout } from './fanout.js';
import { runFootprint } from './footprint.js';
import { runGraphQLReads } from './graphql-reads.js';
import { runGroups } from './groups.js';
import { runLinks } from './links.js';
import { runLoginFlood } from './login-flood.js';
import { startChild, type BenchChild } from './lib/child.js';
import { graphqlClient, introspect } from './lib/graphql.js';
import { startBroker } from './lib/mosquitto.js';
import { runMqttIngest } from './mqtt-ingest.js';
import { loadOptions, type Suite } from './options.js';
import { renderReport, type Row } from './report.js';
import { runScale } from './scale.js';
import { createBenchDatabase, dropBenchDatabase, withClient } from './setup.js';
import { runTelemetry } from './telemetry.js';
import { runTwinWrites } from './twin-writes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * The V8 flags production starts with (package.json's `start:built`), so the bench measures the
 * heap the footprint rows measure; BENCH_PULSE_NODE_FLAGS overrides them (e.g. '' to compare).
 */
function productionNodeFlags(): string[] {
  const override = process.env['BENCH_PULSE_NODE_FLAGS'];
  if (override !== undefined) return override.split(/\s+/).filter(Boolean);
  const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
  return /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/main\.js/.exec(scripts['start:built'] ?? '')?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

const TSX = ['--import', 'tsx', ...productionNodeFlags(), ...(process.env['BENCH_TRACE'] ? ['--trace-deprecation', '--trace-warnings'] : [])];

const log = (message: string) => console.error(`[bench] ${message}`);

const cleanups: Array<() => Promise<void>> = [];
async function cleanup(): Promise<void> {
  while (cleanups.length) {
    const step = cleanups.pop()!;
    await step().catch((error: unknown) => log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`));
  }
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}

function mosquittoVersion(): string {
  const result = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  return (result.stdout || result.stderr || '').split('\n')[0]?.trim() || 'unknown';
}

const suites: Record<Suite, (ctx: BenchContext) => Promise<Row[]>> = {
  reads: runGraphQLReads,
  writes: runTwinWrites,
  fanout: runFanout,
  mqtt: runMqttIngest,
  commands: runCommands,
  telemetry: runTelemetry,
  links: runLinks,
  'login-flood': runLoginFlood,
  groups: runGroups,
  scale: runScale,
  footprint: runFootprint,
};

async function main(): Promise<void> {
  const options = loadOptions(process.argv.slice(2));
  const startedAt = new Date();
  const began = performance.now();
  const cpus = os.cpus();
  const machine = {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    postgres: '',
    mosquitto: mosquittoVersion(),
  };
  machine.postgres = await withClient(options.adminUrl, async (client) => (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version);
  log(`machine: ${machine.cpu}, ${machine.memory}, ${machine.os}, Node ${machine.node}, PostgreSQL ${machine.postgres}, ${machine.mosquitto}`);
  log(`load average at start: ${machine.loadAverageAtStart}`);

  log(`creating the scratch database and seeding 1 tenant × ${options.devices} devices…`);
  const db = await createBenchDatabase(options.adminUrl, options.devices);
  cleanups.push(() => dropBenchDatabase(options.adminUrl, db));
  log(`database ${db.name}`);

  const broker = await startBroker(options.mqtt.url);
  cleanups.push(() => broker.stop());

  const jwtSecret = randomBytes(32).toString('hex');
  const token = await mintToken(jwtSecret, { tenantId: db.tenantId, role: 'customer', subject: 'bench@bench-tenant' }, '2h');

  log('starting Pulse…');
  const pulse: BenchChild = await startChild({
    name: 'pulse',
    script: fileURLToPath(new URL('./pulse-server.ts', import.meta.url)),
    cwd: ROOT,
    // BENCH_PROFILE=<dir> writes a V8 CPU profile of the Pulse process there (open in Chrome DevTools).
    execArgv: process.env['BENCH_PROFILE'] ? [...TSX, '--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : TSX,
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: db.appUrl,
      MIGRATION_DATABASE_URL: db.ownerUrl,
      DATABASE_POOL_SIZE: String(options.poolSize),
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `pulse-bench-${randomBytes(3).toString('hex')}`,
      JWT_SECRET: jwtSecret,
      // The per-subject limiter would refuse a load test after 1,200 requests.
      RATE_LIMIT_PER_MINUTE: '1000000000',
      LOG_LEVEL: 'silent',
    },
  });
  cleanups.push(() => pulse.stop());
  const limits = await startChild({
    name: 'limits',
    script: fileURLToPath(new URL('./limits-server.ts', import.meta.url)),
    cwd: ROOT,
    execArgv: TSX,
    env: { PATH: process.env['PATH'], NODE_ENV: 'production' },
  });
  cleanups.push(() => limits.stop());

  const client = graphqlClient(pulse.port, token);
  const schema = await introspect(client);
  client.close();

  const ctx: BenchContext = { options, db, jwtSecret, token, pulse, schema, limits, brokerUrl: broker.url, brokerDescription: broker.description, log };
  const rows: Row[] = [];
  const failures: string[] = [];
  for (const suite of options.suites) {
    try {
      rows.push(...(await suites[suite](ctx)));
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${suite}: ${message}`);
      log(`${suite} FAILED: ${message}`);
    }
  }
  const seconds = (performance.now() - began) / 1000;

  console.log('');
  console.log(`Pulse benchmarks — ${startedAt.toISOString()} — ${seconds.toFixed(0)} s`);
  console.log(`machine: ${machine.cpu}, ${machine.memory}, ${machine.os}; Node ${machine.node}; PostgreSQL ${machine.postgres}; ${machine.mosquitto}`);
  console.log(`load average at start: ${machine.loadAverageAtStart}; at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('load generator, servers, PostgreSQL and Mosquitto share the same cores');
  console.log('');
  console.log(renderReport(rows));
  for (const failure of failures) console.log(`FAILED ${failure}`);
  if (options.jsonOut) {
    await writeFile(options.jsonOut, JSON.stringify({ startedAt, seconds, machine, options: { ...options, adminUrl: undefined }, rows, failures }, null, 2));
    log(`wrote ${options.jsonOut}`);
  }
  if (failures.length) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
