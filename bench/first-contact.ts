/**
 * Start-up time and idle memory of the ways Pulse is started (issue 12), as a newcomer or an
 * operator starts it: `npm start` (TypeScript through tsx) and `npm run start:built` (compiled),
 * on the embedded default (PGlite + Aedes, demo fleet on and off) and on an external PostgreSQL.
 * For each: time to the first log line, time to "Pulse is ready", and the server process's
 * resident memory after it has idled (from its own /metrics). Medians of RUNS starts.
 *
 *   node --import tsx bench/first-contact.ts        # RUNS=3 IDLE_SECONDS=20 by default
 *
 * Needs PostgreSQL as in the tests (TEST_PG_ADMIN_URL) for the external rows; builds dist/ first.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env['RUNS'] ?? 3);
const IDLE_SECONDS = Number(process.env['IDLE_SECONDS'] ?? 20);
const ADMIN_URL = process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Sample {
  firstLineS: number;
  readyS: number;
  rssMb: number;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One start: its own process group (npm and its child), stopped with SIGTERM once measured. */
async function measure(script: string, env: Record<string, string>): Promise<Sample> {
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawn('npm', ['run', '-s', script], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), MQTT_PORT: String(await freePort()), LOG_FORMAT: 'json', ...env },
  });
  let output = '';
  let firstLineAt: number | undefined;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    if (firstLineAt === undefined && chunk.includes('"level"')) firstLineAt = performance.now();
    output += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readyAt = await new Promise<number>((resolve, reject) => {
    const check = () => (output.includes('"msg":"Pulse is ready"') ? resolve(performance.now()) : undefined);
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`${script} exited before it was ready:\n${output}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const rss = Number(/^pulse_process_resident_memory_bytes (\S+)$/m.exec(metrics)?.[1]);
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
  return { firstLineS: ((firstLineAt ?? readyAt) - startedAt) / 1000, readyS: (readyAt - startedAt) / 1000, rssMb: rss / 1048576 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function row(label: string, script: string, env: Record<string, string>, options: { fresh: boolean }): Promise<string> {
  const samples: Sample[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pulse-bench-fc-'));
    try {
      // A second start measures an existing data directory: one start creates it first.
      if (!options.fresh && !env['DATABASE_URL']) await measure(script, { ...env, DATA_DIR: dataDir });
      samples.push(await measure(script, { ...env, DATA_DIR: dataDir }));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const line = `| ${label} | ${median(samples.map((s) => s.firstLineS)).toFixed(1)} s | ${median(samples.map((s) => s.readyS)).toFixed(1)} s | ${median(samples.map((s) => s.rssMb)).toFixed(0)} MB |`;
  process.stdout.write(`${line}\n`);
  return line;
}

execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit' });
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
const database = `pulse_bench_fc_${process.pid}`;
await admin.query(`CREATE DATABASE ${database}`);
const external = { DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${database}`) };
try {
  process.stdout.write(`load average ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}, ${RUNS} runs, idle ${IDLE_SECONDS} s\n`);
  process.stdout.write('| start | first line | ready | idle RSS |\n|---|---|---|---|\n');
  await row('`npm start`, embedded, first start (creates the database, seeds the demo)', 'start', {}, { fresh: true });
  await row('`npm start`, embedded, second start, demo live', 'start', {}, { fresh: false });
  await row('`npm start`, embedded, second start, `DEMO=false`', 'start', { DEMO: 'false' }, { fresh: false });
  await row('`npm run start:built`, embedded, first start', 'start:built', {}, { fresh: true });
  await row('`npm run start:built`, embedded, second start, demo live', 'start:built', {}, { fresh: false });
  await row('`npm run start:built`, embedded, second start, `DEMO=false`', 'start:built', { DEMO: 'false' }, { fresh: false });
  await row('`npm start`, external PostgreSQL', 'start', external, { fresh: false });
  await row('`npm run start:built`, external PostgreSQL', 'start:built', external, { fresh: false });
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
