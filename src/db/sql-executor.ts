import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';

/**
 * The few raw-SQL operations the migration runner and start-up checks need, over either a
 * `pg` connection or PGlite, so both code paths share one implementation.
 */
export interface SqlExecutor {
  query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a multi-statement script as one simple query (how Prisma applies a migration file). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** A single dedicated `pg` connection; advisory locks are per session, so it must not be a pool. */
export async function connectPgExecutor(connectionString: string): Promise<SqlExecutor> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  return {
    async query<Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      const result = await client.query<Row>(sql, params);
      return result.rows;
    },
    async exec(script) {
      await client.query(script);
    },
    close: () => client.end(),
  };
}

/** PGlite is one in-process connection; closing it is the owner's job, not the executor's. */
export function pgliteExecutor(pglite: PGlite): SqlExecutor {
  return {
    async query<Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      const result = await pglite.query<Row>(sql, params);
      return result.rows;
    },
    async exec(script) {
      // Not through the Prisma adapter's executeScript: it swallows errors, so a failed migration would pass.
      await pglite.exec(script);
    },
    close: async () => {},
  };
}
