import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { DEVICES } from '../harness/operations.js';
import { registerDevice } from '../connectivity/support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const UPSERT = `mutation($input: UpsertDeviceConnectionInput!) { upsertDeviceConnection(input: $input) { __typename } }`;
const RECORD = `mutation($input: RecordDataUsageInput!) { recordDataUsage(input: $input) { __typename } }`;
type Page = { devices: { totalCount: number; edges: Array<{ node: { deviceId: string } }> } };

describe('devices filtered by connection fields', () => {
  test('carrier, connection type, SIM status, network status and over-the-limit usage', async ({ tenant, otherTenant }) => {
    const fleet = {
      'cell-a': { carrierName: 'Hologram', simStatus: 'ACTIVE', networkStatus: 'CONNECTED', dataLimitMb: 100, usage: 150 },
      'cell-b': { carrierName: '1NCE', simStatus: 'SUSPENDED', networkStatus: 'DISCONNECTED', dataLimitMb: 100, usage: 100 },
      'cell-c': { carrierName: 'hologram', simStatus: 'ACTIVE', networkStatus: 'DISCONNECTED', dataLimitMb: null, usage: 5_000 },
      wifi: { connectionType: 'WIFI', simStatus: null, networkStatus: 'CONNECTED', usage: null },
    } as const;
    for (const [deviceId, { usage, ...connection }] of Object.entries(fleet)) {
      await registerDevice(app, tenant.token, deviceId);
      await app.gql(tenant.token, UPSERT, { input: { deviceId, ...connection } });
      if (usage !== null) await app.gql(tenant.serviceToken, RECORD, { input: { deviceId, dataUsedMb: usage } });
    }
    await registerDevice(app, tenant.token, 'bare'); // no connection at all
    // Another tenant's device over its limit must never show up.
    await registerDevice(app, otherTenant.token, 'cell-a');
    await app.gql(otherTenant.token, UPSERT, { input: { deviceId: 'cell-a', carrierName: 'Hologram', dataLimitMb: 1 } });
    await app.gql(otherTenant.serviceToken, RECORD, { input: { deviceId: 'cell-a', dataUsedMb: 2 } });

    const ids = async (filter: Record<string, unknown>) => {
      const page = await app.gql<Page>(tenant.token, DEVICES, { filter });
      expect(page.errors).toBeUndefined();
      const found = page.data!.devices.edges.map((edge) => edge.node.deviceId);
      expect(page.data!.devices.totalCount).toBe(found.length);
      return found;
    };
    expect(await ids({ carrier: 'HOLOGRAM' })).toEqual(['cell-a', 'cell-c']);
    expect(await ids({ connectionType: ['WIFI'] })).toEqual(['wifi']);
    expect(await ids({ simStatus: ['SUSPENDED'] })).toEqual(['cell-b']);
    expect(await ids({ networkStatus: ['DISCONNECTED'] })).toEqual(['cell-b', 'cell-c']);
    expect(await ids({ overDataLimit: true })).toEqual(['cell-a']);
    expect(await ids({ overDataLimit: false })).toEqual(['bare', 'cell-b', 'cell-c', 'wifi']);
    expect(await ids({ carrier: 'hologram', networkStatus: ['CONNECTED'], overDataLimit: true })).toEqual(['cell-a']);

    // Operators see across tenants unless they pick one.
    const operator = await app.gql<Page>(tenant.operatorToken, DEVICES, { first: 500, filter: { overDataLimit: true, tenantId: otherTenant.tenantId } });
    expect(operator.data?.devices.edges.map((edge) => edge.node.deviceId)).toEqual(['cell-a']);
  });

  test('a bad connection filter is a clear validation error', async ({ tenant }) => {
    const result = await app.gql(tenant.token, DEVICES, { filter: { carrier: '' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(result.errors?.[0]?.message).toMatch(/filter\.carrier/);
  });
});
