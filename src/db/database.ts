import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { PrismaPg } from '@prisma/adapter-pg';
import type { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { applyMigrations, type MigrationResult } from './migrate.js';
import { SCOPE_SQL, SCOPE_WITH_ROLE_SQL } from './scope-sql.js';
import { LazyTransactionClient, ScopedPool } from './scoped-pool.js';
import { sqlTransaction, type SqlTransaction } from './sql-transaction.js';
import { connectPgExecutor, pgliteExecutor, type SqlExecutor } from './sql-executor.js';

/** The role every tenant transaction runs as; created by the first migration. */
export const APP_ROLE = 'pulse_app';

export type DatabaseOptions = (
  | { kind: 'postgres'; url: string; migrationUrl?: string; poolSize?: number; preparedStatements?: boolean }
  | { kind: 'pglite'; dataDir?: string }
) & {
  /** Called with each SQL statement Prisma sends (query-count tests catch N+1 regressions). */
  onQuery?: (sql: string) => void;
};

/**
 * An open database: the Prisma client plus what the tenant transaction needs to know about it.
 * `assumeRole` is set when the connection's own identity would bypass RLS (superuser, owner,
 * BYPASSRLS, or PGlite's single superuser): every tenant transaction then switches to `pulse_app`.
 */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly prisma: PrismaClient;
  readonly assumeRole: string | null;
  /**
   * Sends one statement on the open transaction the runner named `transaction`, in order with
   * Prisma's statements on it, without Prisma's client (PostgreSQL only: `undefined` elsewhere,
   * or when no such transaction is open).
   */
  readonly transactionStatement?: (transaction: string) => TransactionStatement | undefined;
  /**
   * Opens a transaction for raw SQL only, on a pooled connection past Prisma, scoped by `scope`
   * (scope-sql.ts); PostgreSQL only (`undefined` on PGlite, whose one connection Prisma owns).
   */
  readonly openSqlTransaction?: (scope: { text: string; values: readonly unknown[] }) => SqlTransaction;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A statement on one open transaction's connection: rows as `pg` decodes them. */
export type TransactionStatement = <Row>(text: string, values: readonly unknown[]) => Promise<Row[]>;

export interface OpenedDatabase {
  database: Database;
  migrations: MigrationResult;
}

/** Opens the database, applies pending migrations, and decides how RLS will be made to apply. */
export async function openDatabase(options: DatabaseOptions, logger: Logger): Promise<OpenedDatabase> {
  return options.kind === 'pglite' ? openPglite(options.dataDir, logger, options.onQuery) : openPostgres(options, logger);
}

async function openPostgres(options: Extract<DatabaseOptions, { kind: 'postgres' }>, logger: Logger): Promise<OpenedDatabase> {
  const owner = await connectPgExecutor(options.migrationUrl ?? options.url);
  let migrations: MigrationResult;
  try {
    migrations = await applyMigrations(owner);
  } finally {
    await owner.close();
  }
  const probe = await connectPgExecutor(options.url);
  let assumeRole: string | null;
  try {
    assumeRole = (await bypassesRowLevelSecurity(probe)) ? APP_ROLE : null;
  } finally {
    await probe.close();
  }
  if (assumeRole) {
    logger.warn(
      'DATABASE_URL connects as a role that would bypass row-level security; every transaction switches to pulse_app. ' +
        'Prefer a dedicated login role granted pulse_app (see README).',
    );
  }
  const pool = new ScopedPool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // Prisma's maxWait no longer covers the wait for a connection (taken at the first statement).
    connectionTimeoutMillis: TRANSACTION_MAX_WAIT_MS,
    scopeStatements: [SCOPE_SQL, SCOPE_WITH_ROLE_SQL],
    // Only an RLS-bound login role may have a statement written before its scope is confirmed.
    pipelineFirstStatement: assumeRole === null,
  });
  const adapter = new PrismaPg(
    pool,
    // Named statements are parsed and planned once per connection instead of on every execution;
    // the name is the text's hash, so one name never stands for two texts.
    options.preparedStatements === false ? {} : { statementNameGenerator: (query) => statementName(query.sql) },
  );
  const prisma = createClient(adapter, options.onQuery);
  return {
    migrations,
    database: {
      kind: 'postgres',
      prisma,
      assumeRole,
      transactionStatement(transaction) {
        const client = pool.transaction(transaction);
        if (!client) return undefined;
        const named = options.preparedStatements !== false;
        return async <Row>(text: string, values: readonly unknown[]) => {
          // Counted like Prisma's own statements: query-count tests must see these too.
          options.onQuery?.(text);
          const result = await client.query({ text, values: values as unknown[], ...(named && { name: statementName(text) }) });
          return result.rows as Row[];
        };
      },
      openSqlTransaction(scope) {
        const transaction = sqlTransaction(new LazyTransactionClient(pool), scope, options.preparedStatements === false ? undefined : statementName);
        const onQuery = options.onQuery;
        if (!onQuery) return transaction;
        return {
          ...transaction,
          query<Row>(text: string, values: readonly unknown[]) {
            onQuery(text);
            return transaction.query<Row>(text, values);
          },
        };
      },
      async ping() {
        await prisma.$queryRaw`SELECT 1`;
      },
      async close() {
        await prisma.$disconnect();
        // An external pool is the caller's to end (the adapter only detaches from it).
        if (!pool.ending) await pool.end();
      },
    },
  };
}

async function openPglite(dataDir: string | undefined, logger: Logger, onQuery?: (sql: string) => void): Promise<OpenedDatabase> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  // Loaded only for the embedded default: a server on PostgreSQL never needs PGlite's code.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
  const pglite = await PGlite.create(dataDir);
  let migrations: MigrationResult;
  try {
    migrations = await applyMigrations(pgliteExecutor(pglite));
  } catch (error) {
    await pglite.close();
    throw error;
  }
  logger.debug({ dataDir: dataDir ?? 'memory' }, 'embedded PGlite database open');
  const prisma = createClient(new PrismaPGlite(pglite), onQuery);
  return {
    migrations,
    database: {
      kind: 'pglite',
      prisma,
      // PGlite has one user and it is a superuser: RLS applies only after switching role.
      assumeRole: APP_ROLE,
      async ping() {
        await prisma.$queryRaw`SELECT 1`;
      },
      async close() {
        await prisma.$disconnect();
        await pglite.close();
      },
    },
  };
}

/** How long a transaction may wait for a pooled connection (as Prisma's `maxWait`). */
export const TRANSACTION_MAX_WAIT_MS = 10_000;

/** Statement texts are few (one per query shape) but raw SQL with lists can vary: bounded. */
const STATEMENT_NAMES_REMEMBERED = 5_000;
const statementNames = new Map<string, string>();

/** The text's hash, computed once per text (it was a measurable share of every query). */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `pulse_${createHash('sha1').update(sql).digest('base64url')}`;
    if (statementNames.size >= STATEMENT_NAMES_REMEMBERED) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}

function createClient(adapter: PrismaPg | PrismaPGlite, onQuery?: (sql: string) => void): PrismaClient {
  if (!onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(event.query));
  return client as unknown as PrismaClient;
}

async function bypassesRowLevelSecurity(executor: SqlExecutor): Promise<boolean> {
  const [row] = await executor.query<{ bypass: boolean }>(
    `SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (
       SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public' AND t.tablename = 'device_registry' AND t.tableowner = current_user
     ) AS bypass
     FROM pg_roles r WHERE r.rolname = current_user`,
  );
  return row?.bypass ?? true;
}
