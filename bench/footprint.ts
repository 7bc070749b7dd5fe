/**
 * Footprint (issues 12 and 13): start-to-ready and idle memory of Pulse started the way an operator
 * starts it, `npm start` (TypeScript through tsx) and `npm run start:built` (compiled, after
 * `npm run build`), on the embedded default (PGlite + Aedes, demo fleet live) and on an external
 * PostgreSQL. Each start runs in its own process group, is timed from spawn to the first log line
 * and to "Pulse is ready", idles, and reports the server process's own
 * `pulse_process_resident_memory_bytes` (the `npm` wrapper is not counted). The bench rows are
 * second starts (an existing data directory or a migrated database); bench/first-contact.ts prints
 * the fuller table, first starts and `DEMO=false` included.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { BenchContext } from './context.js';
import type { Row } from './report.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export type StartScript = 'start' | 'start:built';

export interface StartSample {
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

/** One start of `npm run <script>`, measured, then stopped with SIGTERM to its process group. */
export async function measureStart(script: StartScript, env: Record<string, string>, idleSeconds: number): Promise<StartSample> {
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
  try {
    const readyAt = await new Promise<number>((resolve, reject) => {
      const check = () => (output.includes('"msg":"Pulse is ready"') ? resolve(performance.now()) : undefined);
      child.stdout!.on('data', check);
      void exited.then(() => reject(new Error(`${script} exited before it was ready:\n${output.slice(-2_000)}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const rss = Number(/^pulse_process_resident_memory_bytes (\S+)$/m.exec(metrics)?.[1]);
    return { firstLineS: ((firstLineAt ?? readyAt) - startedAt) / 1000, readyS: (readyAt - startedAt) / 1000, rssMb: rss / 1048576 };
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export function medianSample(samples: StartSample[]): StartSample {
  return { firstLineS: median(samples.map((s) => s.firstLineS)), readyS: median(samples.map((s) => s.readyS)), rssMb: median(samples.map((s) => s.rssMb)) };
}

/** A fresh embedded data directory for the duration of `use`, removed afterwards. */
export async function withDataDir<T>(use: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pulse-bench-fp-'));
  try {
    return await use(dataDir);
  } finally {
    // npm exits before the server it ran has finished closing PGlite: retry while files still appear.
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

/** An empty database on the external PostgreSQL for the duration of `use`, dropped afterwards. */
export async function withExternalDatabase<T>(adminUrl: string, use: (databaseUrl: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const database = `pulse_bench_fp_${process.pid}`;
  await admin.query(`CREATE DATABASE ${database}`);
  try {
    return await use(adminUrl.replace(/\/[^/]*$/, `/${database}`));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

export const buildDist = () => promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: REPO });

/** `npm run build`; the first lines of its complaint when it fails (type errors), else null. */
async function tryBuild(): Promise<string | null> {
  try {
    await buildDist();
    return null;
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? (error instanceof Error ? error.message : String(error));
    return output.split('\n').filter(Boolean).slice(0, 3).join(' ').slice(0, 300);
  }
}

interface Target {
  label: string;
  script: StartScript;
  goalMb: number;
  goalReadyS: number;
}

function pendingRows(target: Target, reason: string): Row[] {
  return (['Idle RSS', 'Start to ready'] as const).map((what, i) => ({
    suite: 'footprint',
    title: `${what}, ${target.label}`,
    pulse: { pending: reason },
    referenceName: 'goal',
    reference: i === 0 ? { value: target.goalMb, unit: 'MB' } : { value: target.goalReadyS, unit: 's' },
    lowerIsBetter: true,
    notes: [],
  }));
}

function footprintRows(target: Target, sample: StartSample, notes: string[]): Row[] {
  const verdict = (value: number, goal: number) => (value <= goal ? 'met' : 'NOT met');
  return [
    {
      suite: 'footprint',
      title: `Idle RSS, ${target.label}`,
      pulse: { value: sample.rssMb, unit: 'MB', detail: `ready in ${sample.readyS.toFixed(1)} s, first log line ${sample.firstLineS.toFixed(1)} s` },
      referenceName: 'goal',
      reference: { value: target.goalMb, unit: 'MB' },
      lowerIsBetter: true,
      notes: [`goal ≤ ${target.goalMb} MB: ${verdict(sample.rssMb, target.goalMb)}`, ...notes],
    },
    {
      suite: 'footprint',
      title: `Start to ready, ${target.label}`,
      pulse: { value: sample.readyS, unit: 's' },
      referenceName: 'goal',
      reference: { value: target.goalReadyS, unit: 's' },
      lowerIsBetter: true,
      notes: [`goal ≤ ${target.goalReadyS} s: ${verdict(sample.readyS, target.goalReadyS)}`],
    },
  ];
}

export async function runFootprint(ctx: BenchContext): Promise<Row[]> {
  const { runs, idleSeconds } = ctx.options.footprint;
  const measureRuns = async (script: StartScript, env: Record<string, string>) => {
    const samples: StartSample[] = [];
    for (let run = 0; run < runs; run++) samples.push(await measureStart(script, env, idleSeconds));
    return medianSample(samples);
  };
  ctx.log('footprint: npm run build…');
  const buildFailure = await tryBuild();
  if (buildFailure) ctx.log(`footprint: npm run build failed, compiled rows pending: ${buildFailure}`);
  const firstScript: StartScript = buildFailure ? 'start' : 'start:built';
  const load = () => `load average ${loadavg()[0]!.toFixed(1)}`;
  const rows: Row[] = [];
  const measureTarget = async (target: Target, env: Record<string, string>, notes: string[]) => {
    if (target.script === 'start:built' && buildFailure) return rows.push(...pendingRows(target, `npm run build failed: ${buildFailure}`));
    ctx.log(`footprint: ${target.label}…`);
    rows.push(...footprintRows(target, await measureRuns(target.script, env), [...notes, load()]));
  };

  await withDataDir(async (dataDir) => {
    ctx.log('footprint: embedded, first start (creates the data directory, seeds the demo)…');
    const first = await measureStart(firstScript, { DATA_DIR: dataDir }, 0);
    const firstNote = `the first start (\`npm run ${firstScript}\`), which created the data directory and seeded the demo, was ready in ${first.readyS.toFixed(1)} s`;
    for (const target of [
      { label: 'embedded, compiled (`npm run start:built`), second start, demo live', script: 'start:built', goalMb: 250, goalReadyS: 5 },
      { label: 'embedded, tsx (`npm start`), second start, demo live', script: 'start', goalMb: 250, goalReadyS: 5 },
    ] satisfies Target[]) {
      await measureTarget(target, { DATA_DIR: dataDir }, [firstNote]);
    }
  });

  await withExternalDatabase(ctx.options.adminUrl, async (databaseUrl) => {
    ctx.log('footprint: external PostgreSQL, first start (applies the migrations)…');
    const first = await measureStart(firstScript, { DATABASE_URL: databaseUrl }, 0);
    const firstNote = `the first start (\`npm run ${firstScript}\`), which applied the migrations, was ready in ${first.readyS.toFixed(1)} s`;
    for (const target of [
      { label: 'external PostgreSQL, compiled, second start', script: 'start:built', goalMb: 150, goalReadyS: 2 },
      { label: 'external PostgreSQL, tsx, second start', script: 'start', goalMb: 150, goalReadyS: 2 },
    ] satisfies Target[]) {
      await measureTarget(target, { DATABASE_URL: databaseUrl }, [firstNote]);
    }
  });
  return rows;
}
