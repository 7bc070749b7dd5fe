/**
 * Start-up time and idle memory of the ways Pulse is started (issue 12), the full table:
 * `npm start` (TypeScript through tsx) and `npm run start:built` (compiled), on the embedded
 * default (PGlite + Aedes, demo fleet on and off) and on an external PostgreSQL, first and second
 * starts. Medians of RUNS starts; the measurement itself is bench/footprint.ts, whose second-start
 * rows `npm run bench` prints (`BENCH_ONLY=footprint`).
 *
 *   node --import tsx bench/first-contact.ts        # RUNS=3 IDLE_SECONDS=20 by default
 *
 * Needs PostgreSQL as in the tests (TEST_PG_ADMIN_URL) for the external rows; builds dist/ first.
 */
import { readFileSync } from 'node:fs';
import { buildDist, measureStart, medianSample, withDataDir, withExternalDatabase, type StartSample, type StartScript } from './footprint.js';

const RUNS = Number(process.env['RUNS'] ?? 3);
const IDLE_SECONDS = Number(process.env['IDLE_SECONDS'] ?? 20);
const ADMIN_URL = process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function row(label: string, script: StartScript, env: Record<string, string>, options: { fresh: boolean }): Promise<void> {
  const samples: StartSample[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    samples.push(
      await withDataDir(async (dataDir) => {
        // A second start measures an existing data directory: one start creates it first.
        if (!options.fresh && !env['DATABASE_URL']) await measureStart(script, { ...env, DATA_DIR: dataDir }, IDLE_SECONDS);
        return measureStart(script, { ...env, DATA_DIR: dataDir }, IDLE_SECONDS);
      }),
    );
  }
  const { firstLineS, readyS, rssMb } = medianSample(samples);
  process.stdout.write(`| ${label} | ${firstLineS.toFixed(1)} s | ${readyS.toFixed(1)} s | ${rssMb.toFixed(0)} MB |\n`);
}

await buildDist();
await withExternalDatabase(ADMIN_URL, async (databaseUrl) => {
  const external = { DATABASE_URL: databaseUrl };
  process.stdout.write(`load average ${readFileSync('/proc/loadavg', 'utf8').trim()}, ${RUNS} runs, idle ${IDLE_SECONDS} s\n`);
  process.stdout.write('| start | first line | ready | idle RSS |\n|---|---|---|---|\n');
  await row('`npm start`, embedded, first start (creates the database, seeds the demo)', 'start', {}, { fresh: true });
  await row('`npm start`, embedded, second start, demo live', 'start', {}, { fresh: false });
  await row('`npm start`, embedded, second start, `DEMO=false`', 'start', { DEMO: 'false' }, { fresh: false });
  await row('`npm run start:built`, embedded, first start', 'start:built', {}, { fresh: true });
  await row('`npm run start:built`, embedded, second start, demo live', 'start:built', {}, { fresh: false });
  await row('`npm run start:built`, embedded, second start, `DEMO=false`', 'start:built', { DEMO: 'false' }, { fresh: false });
  await row('`npm start`, external PostgreSQL', 'start', external, { fresh: false });
  await row('`npm run start:built`, external PostgreSQL', 'start:built', external, { fresh: false });
});
