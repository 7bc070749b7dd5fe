/**
 * `session.query` (src/db/tenant-session.ts): raw SQL sent straight on the tenant transaction's
 * connection, past Prisma's client. It must be the same transaction as Prisma's statements (same
 * scope, same snapshot, same rollback), in order with them, and bound by RLS; and on PGlite it
 * must give the same rows through Prisma.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createSessionRunner, type SessionRunner, type TenantScope } from '../../src/db/tenant-session.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { createLogger } from '../../src/logger.js';
import { createMigratedDatabase, dropScratchDatabase, type ScratchDatabase } from '../harness/postgres.js';

const logger = createLogger('silent');
const customerOf = (tenantId: string): TenantScope => ({ tenantId, role: 'customer', actorId: `user@${tenantId}` });

let scratch: ScratchDatabase;
let postgres: Database;
let pglite: Database;
let pgliteDir: string;
const runners: Array<[string, () => SessionRunner]> = [];

async function seedTenants(runner: SessionRunner) {
  for (const tenantId of ['tenant-a', 'tenant-b']) {
    await runner.run(customerOf(tenantId), async (session) => {
      await session.db.$executeRaw`INSERT INTO tenants (tenant_id, name) VALUES (${tenantId}, ${tenantId}) ON CONFLICT DO NOTHING`;
      await session.db.device.create({ data: { tenantId, deviceId: `${tenantId}-device`, name: 'first', state: { create: {} } }, select: { deviceId: true } });
    });
  }
}

beforeAll(async () => {
  scratch = await createMigratedDatabase('pulse_txstmt');
  ({ database: postgres } = await openDatabase({ kind: 'postgres', url: scratch.appUrl, migrationUrl: scratch.ownerUrl, poolSize: 2 }, logger));
  pgliteDir = await mkdtemp(path.join(tmpdir(), 'pulse-txstmt-'));
  ({ database: pglite } = await openDatabase({ kind: 'pglite', dataDir: pgliteDir }, logger));
  for (const [name, database] of [['postgres', postgres], ['pglite', pglite]] as const) {
    const runner = createSessionRunner(database, createEventBus(), logger);
    await seedTenants(runner);
    runners.push([name, () => runner]);
  }
}, 60_000);

afterAll(async () => {
  await postgres?.close();
  await pglite?.close();
  if (pgliteDir) await rm(pgliteDir, { recursive: true, force: true });
  if (scratch) await dropScratchDatabase(scratch);
});

describe.each(['postgres', 'pglite'])('session.query on %s', (name) => {
  const runner = () => runners.find(([which]) => which === name)![1]();

  test('sees what Prisma wrote earlier in the transaction, and Prisma sees what it wrote', async () => {
    const names = await runner().run(customerOf('tenant-a'), async (session) => {
      await session.db.device.update({ where: { tenantId_deviceId: { tenantId: 'tenant-a', deviceId: 'tenant-a-device' } }, data: { name: 'by prisma' }, select: { name: true } });
      const [seen] = await session.query<{ name: string }>(Prisma.sql`SELECT name FROM device_registry WHERE device_id = 'tenant-a-device'`);
      await session.query(Prisma.sql`UPDATE device_registry SET name = ${'by query'} WHERE device_id = 'tenant-a-device'`);
      const after = await session.db.device.findUniqueOrThrow({ where: { tenantId_deviceId: { tenantId: 'tenant-a', deviceId: 'tenant-a-device' } }, select: { name: true } });
      return [seen!.name, after.name];
    });
    expect(names).toEqual(['by prisma', 'by query']);
  });

  test('is bound by RLS and the transaction scope, and rolls back with the transaction', async () => {
    const visible = await runner().run(customerOf('tenant-b'), (session) =>
      session.query<{ device_id: string; tenant: string }>(Prisma.sql`SELECT device_id, current_setting('app.tenant_id') AS tenant FROM device_registry ORDER BY device_id`),
    );
    expect(visible).toEqual([{ device_id: 'tenant-b-device', tenant: 'tenant-b' }]);
    await expect(
      runner().run(customerOf('tenant-b'), async (session) => {
        await session.query(Prisma.sql`UPDATE device_registry SET name = 'rolled back'`);
        throw new Error('the operation failed');
      }),
    ).rejects.toThrow('the operation failed');
    const [row] = await runner().run(customerOf('tenant-b'), (session) => session.query<{ name: string }>(Prisma.sql`SELECT name FROM device_registry`));
    expect(row!.name).toBe('first');
    // Another tenant's row cannot be written through it either.
    const touched = await runner().run(customerOf('tenant-b'), (session) =>
      session.query<{ device_id: string }>(Prisma.sql`UPDATE device_registry SET name = 'foreign' WHERE tenant_id = 'tenant-a' RETURNING device_id`),
    );
    expect(touched).toEqual([]);
  });

  test('decodes int4, float8, text, boolean, jsonb and timestamptz as Prisma does', async () => {
    const [row] = await runner().run(customerOf('tenant-a'), (session) =>
      session.query<Record<string, unknown>>(
        Prisma.sql`SELECT 7::int4 AS i, 2.5::float8 AS f, 'x'::text AS t, true AS b, '{"a":[1,{"b":null}]}'::jsonb AS j, '2026-01-02T03:04:05.678Z'::timestamptz AS ts`,
      ),
    );
    expect(row).toEqual({ i: 7, f: 2.5, t: 'x', b: true, j: { a: [1, { b: null }] }, ts: new Date('2026-01-02T03:04:05.678Z') });
  });

  test('a failed statement fails its transaction, and the next transaction on the connection is clean', async () => {
    await expect(runner().run(customerOf('tenant-a'), (session) => session.query(Prisma.sql`SELECT 1 / 0`))).rejects.toThrow(/division by zero/);
    const [row] = await runner().run(customerOf('tenant-a'), (session) => session.query<{ ok: number }>(Prisma.sql`SELECT 1 AS ok`));
    expect(row).toEqual({ ok: 1 });
  });
});

test('concurrent transactions each get their own connection (statements never cross scopes)', async () => {
  const runner = runners.find(([which]) => which === 'postgres')![1]();
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, index) => {
      const tenantId = index % 2 ? 'tenant-a' : 'tenant-b';
      return runner.run(customerOf(tenantId), async (session) => {
        const rows = await session.query<{ tenant: string; devices: number }>(
          Prisma.sql`SELECT current_setting('app.tenant_id') AS tenant, count(*)::int AS devices FROM device_registry`,
        );
        return { expected: tenantId, ...rows[0]! };
      });
    }),
  );
  for (const result of results) expect(result).toEqual({ expected: result.expected, tenant: result.expected, devices: 1 });
});

test('on PostgreSQL the statements go on the transaction connection, not through Prisma', async () => {
  const find = postgres.transactionStatement!;
  let found = 0;
  const counting: Database = {
    ...postgres,
    transactionStatement: (transaction) => {
      const statement = find(transaction);
      if (statement) found += 1;
      return statement;
    },
  };
  const runner = createSessionRunner(counting, createEventBus(), logger);
  await runner.run(customerOf('tenant-a'), (session) => session.query(Prisma.sql`SELECT 1`));
  await runner.run(customerOf('tenant-b'), (session) => session.query(Prisma.sql`SELECT 1`));
  expect(found).toBe(2);
  expect(pglite.transactionStatement).toBeUndefined();
});
