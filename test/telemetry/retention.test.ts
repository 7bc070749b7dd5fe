import { serviceScope } from '../../src/kernel/scope.js';
import { utcDay } from '../../src/modules/telemetry/maintenance.js';
import { ensurePartitions, storeSamples, listPartitions } from '../../src/modules/telemetry/store.js';
import type { TenantSession } from '../../src/db/tenant-session.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { closeClients, gqlData, registerDevices, telemetryPublisher } from './support.js';

/*
 * Partitions are shared by every test file (one database per run): these tests only drop
 * partitions of the year 2000, which no other test writes to, and keep every tenant's retention
 * at or under the 30-day default, so no other tenant's samples become due.
 */
let app: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  app = await startTestApp({ TELEMETRY_RETENTION_BATCH_ROWS: '3' }, { autoStartWorkers: false, onQuery: (sql) => statements.push(sql) });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const DAY = 86_400_000;
const asService = <T>(work: (session: TenantSession) => Promise<T>) => app.pulse.app.runner.run(serviceScope('test'), work);

const SET_RETENTION = /* GraphQL */ `
  mutation($input: SetTelemetryRetentionInput!) {
    setTelemetryRetention(input: $input) {
      __typename
      ... on SetTelemetryRetentionPayload { retention { retentionDays custom } }
      ... on ValidationError { issues { path code } }
    }
  }`;

async function storedTimes(tenantId: string, deviceId: string): Promise<number[]> {
  const rows = await asService((session) => session.db.telemetry.findMany({ where: { tenantId, deviceId }, select: { time: true }, orderBy: { time: 'asc' } }));
  return rows.map((row) => row.time.getTime());
}

describe('partitions', () => {
  test('daily partitions exist from the oldest accepted day to a week ahead, and a worker run creates more ahead', async () => {
    const now = new Date();
    const partitions = await asService(listPartitions);
    for (let offset = -7; offset <= 7; offset += 1) expect(partitions).toContain(`telemetry_p${utcDay(now, offset).replace(/-/g, '')}`);
    await app.pulse.app.workers.runAllOnce(new Date(now.getTime() + 3 * DAY));
    expect(await asService(listPartitions)).toContain(`telemetry_p${utcDay(now, 10).replace(/-/g, '')}`);
  });

  test("a sample whose day has no partition is kept in the default one and moved when the day's partition is created", async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['far']);
    const day = new Date(Date.now() + 200 * DAY);
    const time = new Date(`${utcDay(day)}T12:00:00.000Z`);
    await asService((session) => storeSamples(session, [{ tenantId: tenant.tenantId, deviceId: 'far', metric: 'v', time, value: 1 }]));
    const whereIs = () =>
      asService(async (session) => {
        const rows = await session.db.$queryRaw<Array<{ partition: string }>>`
          SELECT tableoid::regclass::text AS partition FROM telemetry WHERE tenant_id = ${tenant.tenantId} AND device_id = 'far'`;
        return rows.map((row) => row.partition);
      });
    const name = `telemetry_p${utcDay(day).replace(/-/g, '')}`;
    // Workers create at most a few weeks ahead: 200 days out, only this test creates the day.
    expect(await whereIs()).toEqual(['telemetry_default']);
    const created = await asService((session) => ensurePartitions(session, utcDay(day), utcDay(day)));
    expect(created).toEqual([{ name, movedRows: 1 }]);
    expect(await whereIs()).toEqual([name]);
  });

  test('partitions wholly past every tenant’s retention are dropped with their rows', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['old']);
    await asService((session) => ensurePartitions(session, '2000-01-01', '2000-01-02'));
    await asService((session) =>
      storeSamples(session, [
        { tenantId: tenant.tenantId, deviceId: 'old', metric: 'v', time: new Date('2000-01-01T10:00:00Z'), value: 1 },
        { tenantId: tenant.tenantId, deviceId: 'old', metric: 'v', time: new Date('2000-01-02T10:00:00Z'), value: 2 },
      ]),
    );
    await app.pulse.app.workers.runAllOnce(new Date());
    const partitions = await asService(listPartitions);
    expect(partitions.filter((name) => name.startsWith('telemetry_p2000'))).toEqual([]);
    expect(await storedTimes(tenant.tenantId, 'old')).toEqual([]);
    // Today's partition is far inside retention: still there.
    expect(partitions).toContain(`telemetry_p${utcDay(new Date()).replace(/-/g, '')}`);
  });
});

describe('per-tenant retention', () => {
  test('a shorter retention deletes the tenant’s expired rows in bounded batches; other tenants keep theirs', async ({ tenant, otherTenant }) => {
    for (const t of [tenant, otherTenant]) await registerDevices(app, t.token, ['keep']);
    const now = Date.now();
    const old = [3, 3.1, 3.2, 3.3, 3.4, 3.5, 3.6].map((days) => now - days * DAY);
    const recent = now - 3_600_000;
    for (const t of [tenant, otherTenant]) {
      const device = await telemetryPublisher(app, t.tenantId);
      expect(await device.send('keep', [...old, recent].map((ts) => ({ ts, metrics: { v: 1 } })))).toEqual({ status: 'applied' });
    }
    const set = await gqlData<{ setTelemetryRetention: unknown }>(app, tenant.token, SET_RETENTION, { input: { retentionDays: 2 } });
    expect(set.setTelemetryRetention).toEqual({ __typename: 'SetTelemetryRetentionPayload', retention: { retentionDays: 2, custom: true } });

    statements = [];
    await app.pulse.app.workers.runAllOnce(new Date());
    expect(await storedTimes(tenant.tenantId, 'keep')).toEqual([recent]);
    expect(await storedTimes(otherTenant.tenantId, 'keep')).toEqual([...old].sort((a, b) => a - b).concat(recent));
    // 7 expired rows at 3 per DELETE: at least three statements, each bounded by LIMIT.
    const deletes = statements.filter((sql) => /DELETE FROM telemetry t/.test(sql));
    expect(deletes.length).toBeGreaterThanOrEqual(3);
    expect(deletes.every((sql) => /LIMIT \$\d+/.test(sql))).toBe(true);
  });

  test('setTelemetryRetention: bounds, back to the default, and read-only operators', async ({ tenant }) => {
    const READ = `query { telemetryRetention { retentionDays custom } }`;
    expect(await gqlData(app, tenant.token, READ)).toEqual({ telemetryRetention: { retentionDays: 30, custom: false } });
    for (const retentionDays of [0, 3651]) {
      const result = await gqlData<{ setTelemetryRetention: { __typename: string; issues?: Array<{ path: string[] }> } }>(app, tenant.token, SET_RETENTION, { input: { retentionDays } });
      expect(result.setTelemetryRetention).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'retentionDays'] }] });
    }
    await gqlData(app, tenant.token, SET_RETENTION, { input: { retentionDays: 7 } });
    expect(await gqlData(app, tenant.token, READ)).toEqual({ telemetryRetention: { retentionDays: 7, custom: true } });
    await gqlData(app, tenant.token, SET_RETENTION, { input: { retentionDays: null } });
    expect(await gqlData(app, tenant.token, READ)).toEqual({ telemetryRetention: { retentionDays: 30, custom: false } });
    const operator = await app.gql(tenant.operatorToken, SET_RETENTION, { input: { retentionDays: 5 } });
    expect(operator.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});
