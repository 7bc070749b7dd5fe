/**
 * Tenant transactions over the lazy, pipelined pg pool (src/db/scoped-pool.ts): BEGIN, the scope
 * and the first statement go in one round trip, an operation that reads nothing takes no
 * connection, and none of that weakens RLS or lets a setting outlive its transaction.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { SCOPE_SQL, SCOPE_WITH_ROLE_SQL } from '../../src/db/scope-sql.js';
import { ScopedPool } from '../../src/db/scoped-pool.js';
import { connectPgExecutor } from '../../src/db/sql-executor.js';
import { createSessionRunner, type SessionRunner, type TenantScope } from '../../src/db/tenant-session.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createLogger } from '../../src/logger.js';
import { createScratchDatabase, dropScratchDatabase, grantAppRole, withAdmin, type ScratchDatabase } from '../harness/postgres.js';

const logger = createLogger('silent');
const TENANT_A = 'tenant-a';
const TENANT_B = 'tenant-b';
const customerOf = (tenantId: string): TenantScope => ({ tenantId, role: 'customer', actorId: `user@${tenantId}` });

// A database of its own: its app role's connections are this file's alone to count.
let scratch: ScratchDatabase;
let database: Database;
let runner: SessionRunner;

beforeAll(async () => {
  scratch = await createScratchDatabase('pulse_scoped');
  const owner = await connectPgExecutor(scratch.ownerUrl);
  try {
    await applyMigrations(owner);
    for (const tenantId of [TENANT_A, TENANT_B]) {
      await owner.query('INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)', [tenantId]);
      await owner.query('INSERT INTO device_registry (tenant_id, device_id, name) VALUES ($1, $2, $2)', [tenantId, `${tenantId}-device`]);
    }
  } finally {
    await owner.close();
  }
  await grantAppRole(scratch);
  // One connection: consecutive transactions reuse it, so a leaked setting would show.
  ({ database } = await openDatabase({ kind: 'postgres', url: scratch.appUrl, migrationUrl: scratch.ownerUrl, poolSize: 1 }, logger));
  runner = createSessionRunner(database, createEventBus(), logger);
});

afterAll(async () => {
  await database?.close();
  if (scratch) await dropScratchDatabase(scratch);
});

/** Server connections of the app's login role: what the pool has opened. */
async function appConnections(): Promise<number> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM pg_stat_activity WHERE usename = $1 AND datname = $2', [
      scratch.appRole,
      scratch.name,
    ]);
    return rows[0]!.count;
  });
}

type Settings = { tenant: string | null; role: string | null; actor: string | null; startedAt: Date };
const SETTINGS_SQL = `SELECT current_setting('app.tenant_id', true) AS tenant, current_setting('app.role', true) AS role,
  current_setting('app.actor', true) AS actor, now() AS "startedAt"`;

describe('lazy tenant transactions', () => {
  // First in the file: nothing has opened a connection yet.
  test('a transaction that runs nothing but its scope takes no connection', async () => {
    const answer = await runner.run(customerOf(TENANT_A), async () => 'nothing read');
    expect(answer).toBe('nothing read');
    expect(await appConnections()).toBe(0);
  });

  test('the first statement runs inside the scoped transaction, and so does every later one', async () => {
    const seen = await runner.run(customerOf(TENANT_A), async (session) => {
      const first = await session.db.$queryRaw<Array<{ device_id: string; started_at: Date }>>`SELECT device_id, now() AS started_at FROM device_registry ORDER BY device_id`;
      const settings = await session.db.$queryRawUnsafe<Settings[]>(SETTINGS_SQL);
      const second = await session.db.device.findMany({ select: { deviceId: true } });
      return { first, settings: settings[0], second };
    });
    expect(seen.first.map((row) => row.device_id)).toEqual([`${TENANT_A}-device`]);
    expect(seen.second).toEqual([{ deviceId: `${TENANT_A}-device` }]);
    expect(seen.settings).toMatchObject({ tenant: TENANT_A, role: 'customer', actor: `user@${TENANT_A}` });
    // now() is the transaction's start: the same for both, so both ran in one transaction.
    expect(seen.settings!.startedAt.getTime()).toBe(seen.first[0]!.started_at.getTime());
    expect(await appConnections()).toBe(1);
  });

  test('concurrent statements of one operation all run in its scope', async () => {
    const pages = await runner.run(customerOf(TENANT_B), (session) =>
      Promise.all([1, 2, 3].map(() => session.db.device.findMany({ select: { tenantId: true } }))),
    );
    expect(pages.flat()).toEqual([{ tenantId: TENANT_B }, { tenantId: TENANT_B }, { tenantId: TENANT_B }]);
  });

  test('no setting outlives its transaction, committed or rolled back, on the reused connection', async () => {
    await runner.run(customerOf(TENANT_A), (session) => session.db.$queryRaw`SELECT 1`);
    const afterCommit = await database.prisma.$queryRawUnsafe<Settings[]>(SETTINGS_SQL);
    expect(afterCommit[0]).toMatchObject({ tenant: '', role: '', actor: '' });

    await expect(
      runner.run(customerOf(TENANT_B), async (session) => {
        await session.db.$executeRaw`UPDATE device_registry SET name = 'renamed'`;
        throw new Error('the operation failed');
      }),
    ).rejects.toThrow('the operation failed');
    const afterRollback = await database.prisma.$queryRawUnsafe<Settings[]>(SETTINGS_SQL);
    expect(afterRollback[0]).toMatchObject({ tenant: '', role: '', actor: '' });
    const names = await runner.run(customerOf(TENANT_B), (session) => session.db.device.findMany({ select: { name: true } }));
    expect(names).toEqual([{ name: `${TENANT_B}-device` }]);
    expect(await appConnections()).toBe(1);
  });
});

describe('a scope that fails', () => {
  /** A runner whose scope switches to a role that does not exist: every transaction's scope fails. */
  function brokenScopeRunner(pipelineFirstStatement: boolean) {
    const pool = new ScopedPool({ connectionString: scratch.appUrl, max: 1, scopeStatements: [SCOPE_SQL, SCOPE_WITH_ROLE_SQL], pipelineFirstStatement });
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    const broken: Database = {
      kind: 'postgres',
      prisma,
      assumeRole: 'pulse_no_such_role',
      ping: async () => {},
      close: async () => {
        await prisma.$disconnect();
        await pool.end();
      },
    };
    return { runner: createSessionRunner(broken, createEventBus(), logger), close: () => broken.close() };
  }

  test.each([true, false])('fails the statement sent with it, which changes nothing (first statement pipelined: %s)', async (pipelined) => {
    const broken = brokenScopeRunner(pipelined);
    try {
      await expect(
        broken.runner.run(customerOf(TENANT_A), (session) => session.db.$executeRaw`UPDATE device_registry SET name = 'unscoped write'`),
      ).rejects.toThrow(/pulse_no_such_role/);
    } finally {
      await broken.close();
    }
    const names = await withAdmin(async (client) => (await client.query<{ name: string }>('SELECT name FROM device_registry ORDER BY name')).rows, scratch.name);
    expect(names.map((row) => row.name)).toEqual([`${TENANT_A}-device`, `${TENANT_B}-device`]);
  });
});
