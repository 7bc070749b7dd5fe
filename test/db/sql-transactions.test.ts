/**
 * `SessionRunner.runSql` (src/db/tenant-session.ts, src/db/sql-transaction.ts): a tenant
 * transaction for raw SQL only, on PostgreSQL straight on a pooled connection past Prisma. It owes
 * everything `run` owes: RLS and the scope on every statement, settings that end with the
 * transaction, rollback on error, events and after-commit tasks only after the commit, savepoints.
 * On PGlite it falls back to `run`, so the same behaviour is checked there too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { isTransientDatabaseError } from '../../src/db/prisma-errors.js';
import { connectPgExecutor } from '../../src/db/sql-executor.js';
import { createSessionRunner, type CommittedEventListener, type SessionRunner, type TenantScope } from '../../src/db/tenant-session.js';
import { createEventBus } from '../../src/events/pubsub.js';
import type { PulseEventName, PulseEvents } from '../../src/events/events.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { createLogger } from '../../src/logger.js';
import { createMigratedDatabase, dropScratchDatabase, type ScratchDatabase } from '../harness/postgres.js';

const logger = createLogger('silent');
const customerOf = (tenantId: string): TenantScope => ({ tenantId, role: 'customer', actorId: `user@${tenantId}` });

let scratch: ScratchDatabase;
let pgliteDir: string;
/** Every database under test: PostgreSQL (one pooled connection, so each transaction reuses the last one's) and PGlite. */
const databases = new Map<string, Database>();
/** Prisma's statements on each database: `runSql` must send none on PostgreSQL. */
const prismaStatements = new Map<string, string[]>();
/** Events as the runner hands them over after commit, with what the database showed at that moment. */
const committed: Array<{ database: string; name: PulseEventName; payload: unknown }> = [];
const runners = new Map<string, SessionRunner>();

beforeAll(async () => {
  scratch = await createMigratedDatabase('pulse_sqltx');
  pgliteDir = await mkdtemp(path.join(tmpdir(), 'pulse-sqltx-'));
  for (const kind of ['postgres', 'pglite'] as const) {
    const statements: string[] = [];
    prismaStatements.set(kind, statements);
    const onQuery = (sql: string) => statements.push(sql);
    const { database } = await openDatabase(
      kind === 'postgres' ? { kind, url: scratch.appUrl, migrationUrl: scratch.ownerUrl, poolSize: 1, onQuery } : { kind, dataDir: pgliteDir, onQuery },
      logger,
    );
    databases.set(kind, database);
    const listener: CommittedEventListener = (name, payload) => committed.push({ database: kind, name, payload });
    const runner = createSessionRunner(database, createEventBus(), logger, listener);
    runners.set(kind, runner);
    for (const tenantId of ['tenant-a', 'tenant-b']) {
      await runner.run(customerOf(tenantId), async (session) => {
        await session.db.$executeRaw`INSERT INTO tenants (tenant_id, name) VALUES (${tenantId}, ${tenantId}) ON CONFLICT DO NOTHING`;
        await session.db.device.create({ data: { tenantId, deviceId: `${tenantId}-device`, name: 'first', state: { create: {} } }, select: { deviceId: true } });
      });
    }
  }
}, 60_000);

afterAll(async () => {
  for (const database of databases.values()) await database.close();
  if (pgliteDir) await rm(pgliteDir, { recursive: true, force: true });
  if (scratch) await dropScratchDatabase(scratch);
});

const changed = (tenantId: string, deviceId: string): PulseEvents['deviceConnectivityChanged'] => ({
  tenantId,
  deviceId,
  eventId: '1',
  previousStatus: null,
  status: 'ONLINE',
  reason: 'TEST',
  occurredAt: new Date(0).toISOString(),
});

const nameOf = (runner: SessionRunner, scope: TenantScope) =>
  runner.runSql(scope, async (session) => {
    const [row] = await session.query<{ name: string }>(Prisma.sql`SELECT name FROM device_registry WHERE device_id = ${`${scope.tenantId}-device`}`);
    return row?.name;
  });

describe.each(['postgres', 'pglite'])('runSql on %s', (kind) => {
  const runner = () => runners.get(kind)!;

  test('every statement is scoped and bound by RLS: another tenant’s rows can be neither seen nor written', async () => {
    const rows = await runner().runSql(customerOf('tenant-b'), async (session) => {
      const visible = await session.query<{ device_id: string; tenant: string }>(
        Prisma.sql`SELECT device_id, current_setting('app.tenant_id') AS tenant FROM device_registry ORDER BY device_id`,
      );
      const foreign = await session.query(Prisma.sql`UPDATE device_registry SET name = 'foreign' WHERE tenant_id = 'tenant-a' RETURNING device_id`);
      return { visible, foreign };
    });
    expect(rows).toEqual({ visible: [{ device_id: 'tenant-b-device', tenant: 'tenant-b' }], foreign: [] });
    expect(await nameOf(runner(), customerOf('tenant-a'))).toBe('first');
  });

  test('a failure rolls back everything the transaction wrote, and the next transaction is clean', async () => {
    await expect(
      runner().runSql(customerOf('tenant-a'), async (session) => {
        await session.query(Prisma.sql`UPDATE device_registry SET name = 'rolled back' WHERE device_id = 'tenant-a-device'`);
        throw new Error('the batch failed');
      }),
    ).rejects.toThrow('the batch failed');
    await expect(runner().runSql(customerOf('tenant-a'), (session) => session.query(Prisma.sql`SELECT 1 / 0`))).rejects.toThrow(/division by zero/);
    expect(await nameOf(runner(), customerOf('tenant-a'))).toBe('first');
  });

  test('events and after-commit tasks come only after the commit, in order, and not at all after a rollback', async () => {
    const order: string[] = [];
    const at = committed.length;
    await runner().runSql(customerOf('tenant-a'), async (session) => {
      await session.query(Prisma.sql`UPDATE device_registry SET name = 'committed' WHERE device_id = 'tenant-a-device'`);
      session.publish('deviceConnectivityChanged', changed('tenant-a', 'tenant-a-device'));
      session.afterCommit(async () => {
        // By now the write is visible to another transaction: it was committed before this ran.
        order.push(`task sees ${await nameOf(runner(), customerOf('tenant-a'))}`);
      });
      order.push(`published ${committed.length - at}`);
    });
    expect(order).toEqual(['published 0', 'task sees committed']);
    expect(committed.slice(at)).toEqual([{ database: kind, name: 'deviceConnectivityChanged', payload: changed('tenant-a', 'tenant-a-device') }]);

    const before = committed.length;
    let ran = false;
    await expect(
      runner().runSql(customerOf('tenant-a'), async (session) => {
        session.publish('deviceConnectivityChanged', changed('tenant-a', 'tenant-a-device'));
        session.afterCommit(async () => {
          ran = true;
        });
        await session.query(Prisma.sql`SELECT 1 / 0`);
      }),
    ).rejects.toThrow(/division by zero/);
    expect(committed.length).toBe(before);
    expect(ran).toBe(false);
  });

  test('a failed savepoint undoes its statements and events; the rest of the transaction commits', async () => {
    const at = committed.length;
    await runner().runSql(customerOf('tenant-b'), async (session) => {
      await session.query(Prisma.sql`UPDATE device_registry SET name = 'outer' WHERE device_id = 'tenant-b-device'`);
      await expect(
        session.savepoint(async () => {
          await session.query(Prisma.sql`UPDATE device_registry SET name = 'inner' WHERE device_id = 'tenant-b-device'`);
          session.publish('deviceConnectivityChanged', changed('tenant-b', 'dropped'));
          await session.query(Prisma.sql`SELECT 1 / 0`);
        }),
      ).rejects.toThrow(/division by zero/);
      session.publish('deviceConnectivityChanged', changed('tenant-b', 'kept'));
    });
    expect(await nameOf(runner(), customerOf('tenant-b'))).toBe('outer');
    expect(committed.slice(at).map((event) => (event.payload as { deviceId: string }).deviceId)).toEqual(['kept']);
  });
});

describe('runSql on PostgreSQL', () => {
  const runner = () => runners.get('postgres')!;

  test('sends nothing through Prisma, and session.db refuses to be used', async () => {
    const statements = prismaStatements.get('postgres')!;
    const at = statements.length;
    await runner().runSql(customerOf('tenant-a'), (session) => session.query(Prisma.sql`SELECT 1`));
    // The onQuery hook sees the work's own statement (it counts raw statements too), and nothing
    // of Prisma's: no BEGIN, no scope statement, no COMMIT.
    expect(statements.slice(at)).toEqual(['SELECT 1']);
    await expect(runner().runSql(customerOf('tenant-a'), async (session) => session.db.device.count())).rejects.toThrow(/raw-SQL transaction/);
  });

  test('its settings end with the transaction: the pooled connection carries no scope afterwards', async () => {
    const database = databases.get('postgres')!;
    const inside = await runner().runSql(customerOf('tenant-a'), (session) =>
      session.query<{ pid: number; tenant: string }>(Prisma.sql`SELECT pg_backend_pid() AS pid, current_setting('app.tenant_id') AS tenant`),
    );
    // One pooled connection: this statement, outside any transaction, runs on the same backend.
    const after = await database.prisma.$queryRaw<Array<{ pid: number; tenant: string | null; role: string }>>`
      SELECT pg_backend_pid() AS pid, current_setting('app.tenant_id', true) AS tenant, current_user AS role`;
    expect(inside).toEqual([{ pid: after[0]!.pid, tenant: 'tenant-a' }]);
    expect(after[0]!.tenant ?? '').toBe('');
  });

  test('a transaction that sends no statement still commits and delivers its events', async () => {
    const at = committed.length;
    await runner().runSql(customerOf('tenant-a'), async (session) => {
      session.publish('deviceConnectivityChanged', changed('tenant-a', 'nothing-sent'));
    });
    expect(committed.slice(at)).toHaveLength(1);
  });

  test('a statement sent after the transaction ended is refused, not run outside it', async () => {
    let late: ((sql: Prisma.Sql) => Promise<unknown>) | undefined;
    await runner().runSql(customerOf('tenant-a'), async (session) => {
      await session.query(Prisma.sql`SELECT 1`);
      late = (sql) => session.query(sql);
    });
    await expect(late!(Prisma.sql`UPDATE device_registry SET name = 'unscoped' WHERE device_id = 'tenant-a-device'`)).rejects.toThrow(/already ended|released/);
    expect(await nameOf(runner(), customerOf('tenant-a'))).not.toBe('unscoped');
  });

  test('one that outlives the timeout is abandoned and rolled back, with an error the retry loops treat as transient', async () => {
    const database = databases.get('postgres')!;
    const timed = createSessionRunner(database, createEventBus(), logger, undefined, 300);
    const holder = await connectPgExecutor(scratch.ownerUrl);
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM device_registry WHERE device_id = 'tenant-b-device' FOR UPDATE`);
      const failure = await timed
        .runSql(customerOf('tenant-b'), (session) => session.query(Prisma.sql`UPDATE device_registry SET name = 'timed out' WHERE device_id = 'tenant-b-device'`))
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/timed out after 300 ms/);
      expect(isTransientDatabaseError(failure)).toBe(true);
    } finally {
      await holder.query('COMMIT');
      await holder.close();
    }
    // The abandoned connection is gone; the pool opens another and the update never happened.
    expect(await nameOf(runner(), customerOf('tenant-b'))).not.toBe('timed out');
  });
});
