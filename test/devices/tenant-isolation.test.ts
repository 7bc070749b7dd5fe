import pg from 'pg';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { DEVICE, DEVICES, REGISTER_DEVICE } from '../harness/operations.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

type DeviceList = { devices: { totalCount: number; edges: Array<{ node: { id: string; deviceId: string; tenantId: string } }> } };

async function registerIn(token: string, deviceId: string): Promise<string> {
  const result = await app.gql<{ registerDevice: { device: { id: string } } }>(token, REGISTER_DEVICE, { input: { deviceId, name: deviceId } });
  return result.data!.registerDevice.device.id;
}

describe('tenant isolation', () => {
  test("tenant B never sees tenant A's devices through list, device or node", async ({ tenant: a, otherTenant: b }) => {
    const nodeId = await registerIn(a.token, 'secret-1');
    await registerIn(b.token, 'mine-1');

    const listB = await app.gql<DeviceList>(b.token, DEVICES, {});
    expect(listB.data?.devices.edges.map((edge) => edge.node.deviceId)).toEqual(['mine-1']);
    expect(listB.data?.devices.totalCount).toBe(1);

    const deviceB = await app.gql<{ device: unknown }>(b.token, DEVICE, { deviceId: 'secret-1' });
    expect(deviceB.data?.device).toBeNull();

    const nodeB = await app.gql<{ node: unknown }>(b.token, `query($id: ID!) { node(id: $id) { id ... on Device { deviceId } } }`, { id: nodeId });
    expect(nodeB).toEqual({ data: { node: null } });
    const nodeA = await app.gql<{ node: { deviceId: string } }>(a.token, `query($id: ID!) { node(id: $id) { id ... on Device { deviceId } } }`, { id: nodeId });
    expect(nodeA.data?.node.deviceId).toBe('secret-1');

    // Asking for another tenant explicitly is ignored for customers: they stay in their own.
    const crossB = await app.gql<{ device: unknown }>(b.token, `query($t: String) { device(deviceId: "secret-1", tenantId: $t) { deviceId } }`, { t: a.tenantId });
    expect(crossB.data?.device).toBeNull();
    const filterB = await app.gql<DeviceList>(b.token, DEVICES, { filter: { tenantId: a.tenantId } });
    expect(filterB.data?.devices.edges.map((edge) => edge.node.tenantId)).toEqual([b.tenantId]);
  });

  test("tenant B cannot change or decommission tenant A's devices", async ({ tenant: a, otherTenant: b }) => {
    await registerIn(a.token, 'target');
    const update = await app.gql(b.token, `mutation { updateDevice(input: { deviceId: "target", name: "pwned" }) { __typename } }`);
    expect(update.data?.['updateDevice']).toEqual({ __typename: 'NotFound' });
    const decommission = await app.gql(b.token, `mutation { decommissionDevice(input: { deviceId: "target" }) { __typename } }`);
    expect(decommission.data?.['decommissionDevice']).toEqual({ __typename: 'NotFound' });
    // Registering the same ID in B creates B's own device, not a collision with A's.
    await registerIn(b.token, 'target');
    const inA = await app.gql<{ device: { name: string; decommissionedAt: null } }>(a.token, DEVICE, { deviceId: 'target' });
    expect(inA.data?.device).toMatchObject({ name: 'target', decommissionedAt: null });
  });

  test('operators read across tenants but cannot write', async ({ tenant: a, otherTenant: b }) => {
    await registerIn(a.token, 'op-a');
    await registerIn(b.token, 'op-b');
    const list = await app.gql<DeviceList>(a.operatorToken, DEVICES, { first: 500, filter: { search: 'op-' } });
    const tenants = new Set(list.data?.devices.edges.map((edge) => edge.node.tenantId));
    expect(tenants.has(a.tenantId) && tenants.has(b.tenantId)).toBe(true);
    const one = await app.gql<DeviceList>(a.operatorToken, DEVICES, { filter: { tenantId: b.tenantId } });
    expect(one.data?.devices.edges.map((edge) => edge.node.deviceId)).toEqual(['op-b']);
    const device = await app.gql<{ device: { deviceId: string } }>(a.operatorToken, `query($t: String) { device(deviceId: "op-b", tenantId: $t) { deviceId } }`, { t: b.tenantId });
    expect(device.data?.device.deviceId).toBe('op-b');
    const write = await app.gql(a.operatorToken, REGISTER_DEVICE, { input: { deviceId: 'op-write', name: 'x' } });
    expect(write.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('row-level security in the database itself', () => {
  const database = inject('database');

  async function asAppRole<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: database.appUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  test('the app role is neither superuser nor BYPASSRLS, and sees nothing with no tenant set', async ({ tenant }) => {
    await registerIn(tenant.token, 'rls-1');
    await asAppRole(async (client) => {
      const role = await client.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user');
      expect(role.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
      const none = await client.query('SELECT count(*)::int AS n FROM device_registry');
      expect(none.rows[0].n).toBe(0);
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.tenantId]);
      const own = await client.query('SELECT device_id FROM device_registry');
      expect(own.rows).toEqual([{ device_id: 'rls-1' }]);
      await client.query('COMMIT');
      // Transaction-local: the setting is gone after commit, on the same pooled connection.
      const after = await client.query('SELECT count(*)::int AS n FROM device_registry');
      expect(after.rows[0].n).toBe(0);
    });
  });

  test('a tenant cannot insert rows for another tenant', async ({ tenant, otherTenant }) => {
    await registerIn(tenant.token, 'rls-2');
    await asAppRole(async (client) => {
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.tenantId]);
      await expect(
        client.query("INSERT INTO device_tags (tenant_id, device_id, key, value) VALUES ($1, 'rls-2', 'k', 'v')", [otherTenant.tenantId]),
      ).rejects.toThrow(/row-level security/);
      await client.query('ROLLBACK');
    });
  });
});
