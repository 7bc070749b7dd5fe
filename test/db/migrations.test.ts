import { createHash } from 'node:crypto';
import { cp, mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, test } from 'vitest';
import { applyMigrations, DEFAULT_MIGRATIONS_DIR, MigrationError, readMigrations } from '../../src/db/migrate.js';
import { connectPgExecutor, pgliteExecutor } from '../../src/db/sql-executor.js';
import { createScratchDatabase, dropScratchDatabase, type ScratchDatabase } from '../harness/postgres.js';

const scratch: ScratchDatabase[] = [];
async function freshDatabase(): Promise<ScratchDatabase> {
  const database = await createScratchDatabase('pulse_migr');
  scratch.push(database);
  return database;
}
afterAll(async () => {
  await Promise.all(scratch.map(dropScratchDatabase));
});

async function withOwner<T>(database: ScratchDatabase, work: (executor: Awaited<ReturnType<typeof connectPgExecutor>>) => Promise<T>) {
  const executor = await connectPgExecutor(database.ownerUrl);
  try {
    return await work(executor);
  } finally {
    await executor.close();
  }
}

describe('migration runner on PostgreSQL', () => {
  test('applies every migration once and records Prisma-compatible history; a second run applies nothing', async () => {
    const database = await freshDatabase();
    const names = (await readMigrations(DEFAULT_MIGRATIONS_DIR)).map((migration) => migration.name);
    const first = await withOwner(database, (executor) => applyMigrations(executor));
    expect(first.applied).toEqual(names);
    const second = await withOwner(database, (executor) => applyMigrations(executor));
    expect(second).toEqual({ applied: [], alreadyApplied: names });

    const history = await withOwner(database, (executor) =>
      executor.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number; rolled_back_at: Date | null }>(
        'SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
      ),
    );
    const expectedChecksums = await Promise.all(
      names.map(async (name) => createHash('sha256').update(await readFile(path.join(DEFAULT_MIGRATIONS_DIR, name, 'migration.sql'))).digest('hex')),
    );
    expect(history.map((row) => row.migration_name)).toEqual(names);
    expect(history.map((row) => row.checksum)).toEqual(expectedChecksums);
    expect(history.every((row) => row.finished_at instanceof Date && row.applied_steps_count === 1 && row.rolled_back_at === null)).toBe(true);
  });

  test('concurrent runners serialise on the advisory lock: each migration is applied exactly once', async () => {
    const database = await freshDatabase();
    const results = await Promise.all([1, 2, 3].map(() => withOwner(database, (executor) => applyMigrations(executor))));
    const appliedCounts = results.map((result) => result.applied.length).sort();
    const total = (await readMigrations(DEFAULT_MIGRATIONS_DIR)).length;
    expect(appliedCounts).toEqual([0, 0, total]);
  });

  test('a failing migration stops with its name and reason, is logged in history, and blocks later runs', async () => {
    const database = await freshDatabase();
    const dir = await mkdtemp(path.join(tmpdir(), 'pulse-migrations-'));
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    await mkdir(path.join(dir, '29991231000000_broken'));
    await writeFile(path.join(dir, '29991231000000_broken', 'migration.sql'), 'CREATE TABLE ok_part (id int);\nSELECT * FROM no_such_table;\n');

    const failure = withOwner(database, (executor) => applyMigrations(executor, dir));
    await expect(failure).rejects.toBeInstanceOf(MigrationError);
    await expect(failure).rejects.toThrow(/29991231000000_broken failed: .*no_such_table/);

    const row = await withOwner(database, (executor) =>
      executor.query<{ finished_at: Date | null; logs: string }>("SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = '29991231000000_broken'"),
    );
    expect(row[0]).toMatchObject({ finished_at: null, logs: expect.stringMatching(/no_such_table/) });
    // The failed file ran as one implicit transaction: its first statement left nothing behind.
    const leftover = await withOwner(database, (executor) => executor.query("SELECT to_regclass('ok_part') AS t"));
    expect(leftover[0]).toEqual({ t: null });

    await expect(withOwner(database, (executor) => applyMigrations(executor, dir))).rejects.toThrow(/failed earlier.*rolled_back_at/s);
  });
});

describe('migration runner on PGlite', () => {
  test('applies the same migrations on embedded PostgreSQL, idempotently', async () => {
    const pglite = await PGlite.create();
    try {
      const names = (await readMigrations(DEFAULT_MIGRATIONS_DIR)).map((migration) => migration.name);
      expect((await applyMigrations(pgliteExecutor(pglite))).applied).toEqual(names);
      expect((await applyMigrations(pgliteExecutor(pglite))).applied).toEqual([]);
      const tables = await pglite.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND rowsecurity");
      expect(tables.rows[0]!.n).toBeGreaterThanOrEqual(18);
    } finally {
      await pglite.close();
    }
  });
});

describe('start-up', () => {
  test('refuses to start on a database with a failed migration recorded, naming it', async () => {
    const { loadPulseConfig } = await import('../../src/server.js');
    const { createLogger } = await import('../../src/logger.js');
    const { startPulse } = await import('../../src/server.js');
    const database = await freshDatabase();
    await withOwner(database, async (executor) => {
      await applyMigrations(executor);
      await executor.query(
        "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) VALUES (gen_random_uuid()::text, 'x', '29991231000000_half_done', 'boom')",
      );
    });
    const config = loadPulseConfig({ DATABASE_URL: database.ownerUrl, MQTT_URL: 'mqtt://127.0.0.1:1', PORT: '0', JWT_SECRET: 's'.repeat(40), LOG_LEVEL: 'silent' });
    await expect(startPulse(config, createLogger('silent'))).rejects.toThrow(/29991231000000_half_done failed earlier/);
  });
});
