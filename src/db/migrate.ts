import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlExecutor } from './sql-executor.js';

/** Prisma's own advisory lock id, so our runner and `prisma migrate deploy` exclude each other. */
const PRISMA_MIGRATION_LOCK_ID = 72707369;

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/** Raised when a migration fails or an earlier failure is recorded; start-up must stop on it. */
export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migrationName: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** Reads `<dir>/<timestamp>_<name>/migration.sql` in name order, as Prisma does. */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
}

/**
 * Applies pending Prisma-format migrations with the same history table, lock and checksum that
 * Prisma's schema engine uses, so a database migrated here is "up to date" for `prisma migrate`.
 * Refuses to run while an earlier failed migration is recorded, like `prisma migrate deploy`.
 */
export async function applyMigrations(executor: SqlExecutor, dir = DEFAULT_MIGRATIONS_DIR): Promise<MigrationResult> {
  const migrations = await readMigrations(dir);
  await executor.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATION_LOCK_ID]);
  try {
    await executor.exec(CREATE_HISTORY_TABLE);
    const history = await executor.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    );
    const failed = history.find((row) => row.finished_at === null && row.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `Migration ${failed.migration_name} failed earlier and is recorded as unfinished in _prisma_migrations. ` +
          'Fix the database by hand, then mark it rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = ...) before starting again.',
        failed.migration_name,
      );
    }
    const finished = new Set(history.filter((row) => row.finished_at !== null).map((row) => row.migration_name));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      if (finished.has(migration.name)) {
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await applyOne(executor, migration);
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await executor.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATION_LOCK_ID]);
  }
}

async function applyOne(executor: SqlExecutor, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  await executor.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)', [
    id,
    migration.checksum,
    migration.name,
  ]);
  try {
    // One simple query: PostgreSQL runs a multi-statement string in one implicit transaction.
    await executor.exec(migration.sql);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await executor.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
    throw new MigrationError(`Migration ${migration.name} failed: ${message}`, migration.name, error);
  }
  await executor.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
}
