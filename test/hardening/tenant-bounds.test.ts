/**
 * Issue 14, class 1: a token's tenant bounds every read. Tenant A's data is seeded through the
 * API and MQTT; then every root Query field (built from the schema, so new modules' fields are
 * included) is queried with each role of tenant B, naming tenant A wherever an argument allows,
 * and every Node type found is fetched by its global ID with each role. Only B's operator may
 * see A's rows. The RLS policies themselves are checked too: none grants the service role
 * across tenants while a tenant is in scope.
 */
import { inject } from 'vitest';
import { connectPgExecutor } from '../../src/db/sql-executor.js';
import { afterAll, beforeAll, describe, expect, test, type TenantFixture } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { closeClients, deviceClient, publishSettled, registerDevice, status } from '../connectivity/support.js';
import { buildTopic } from '../harness/topics.js';
import { collectNodes, nodeTypes, rootFieldQueries } from './schema-walk.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const ICCID = '8944500123456789012';

/** Tenant A: a site, a device with tags and metadata in it, its connection, twin, group, a presence event. */
async function seed(owner: TenantFixture): Promise<{ markers: string[] }> {
  const marker = `secret-${owner.tenantId}`;
  const ok = async (query: string, input: Record<string, unknown>) => {
    const result = await app.gql(owner.token, query, { input });
    const payload = Object.values(result.data ?? {})[0] as { __typename?: string } | undefined;
    if (!payload?.__typename?.endsWith('Payload')) throw new Error(`seeding failed: ${JSON.stringify(result)}`);
  };
  await ok('mutation($input: CreateSiteInput!) { createSite(input: $input) { __typename } }', { siteId: 'site-a', name: `${marker}-site` });
  const device = await registerDevice(app, owner.token, 'dev-a');
  await ok('mutation($input: UpdateDeviceInput!) { updateDevice(input: $input) { __typename } }', {
    deviceId: 'dev-a',
    name: `${marker}-device`,
    siteId: 'site-a',
    tags: [{ key: 'owner', value: marker }],
    metadata: { note: marker },
  });
  await ok('mutation($input: UpsertDeviceConnectionInput!) { upsertDeviceConnection(input: $input) { __typename } }', { deviceId: 'dev-a', simIccid: ICCID, carrierName: marker });
  await ok('mutation($input: UpdateDeviceTwinDesiredInput!) { updateDeviceTwinDesired(input: $input) { __typename } }', { deviceId: 'dev-a', desired: { marker } });
  await ok('mutation($input: CreateDeviceGroupInput!) { createDeviceGroup(input: $input) { __typename } }', { name: `${marker}-group` });
  const client = await deviceClient({ url: app.mqttUrl, ...device.credentials, clientId: `${owner.tenantId}/dev-a`, protocolVersion: 4 });
  await publishSettled(app, client, buildTopic.status(owner.tenantId, 'dev-a'), status('online', 's1'));
  return { markers: [owner.tenantId, marker, ICCID] };
}

/** The IDs of the Node types tenant A's own walk found, by type. */
async function ownNodes(owner: TenantFixture, queries: Array<{ query: string }>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const { query } of queries) collectNodes((await app.gql(owner.token, query)).data, found);
  return found;
}

function leaked(response: unknown, markers: string[]): string[] {
  const text = JSON.stringify(response);
  // Global IDs are base64 of "Type:tenant/…": decode every one that could be.
  const decoded = [...text.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((match) => Buffer.from(match[1]!, 'base64').toString('latin1'));
  return markers.filter((marker) => text.includes(marker) || decoded.some((value) => value.includes(marker)));
}

describe('a token bounds every read by its tenant', () => {
  test('every root field, with every role of another tenant, naming the tenant under attack', async ({ tenant: a, otherTenant: b }) => {
    const { markers } = await seed(a);
    const schema = app.pulse.app.modules.schema;
    const queries = rootFieldQueries(schema, { byName: { tenantId: a.tenantId, deviceId: 'dev-a', siteId: 'site-a', bucket: '1 hour', metric: 'temp' } });
    expect(queries.map((entry) => entry.field)).toEqual(expect.arrayContaining(['device', 'devices', 'site', 'sites', 'twinHistory', 'deviceGroups']));

    let ownerSaw = 0;
    for (const { field, query } of queries) {
      const own = await app.gql(a.token, query);
      expect((own.errors ?? []).filter((error) => error.extensions?.['code'] === 'GRAPHQL_VALIDATION_FAILED' || !error.path), `${field}: ${query.slice(0, 300)}`).toEqual([]);
      if (leaked(own, markers).length > 0) ownerSaw += 1;
      for (const [role, token] of [['customer', b.token], ['iot_service', b.serviceToken]] as const) {
        const foreign = await app.gql(token, query);
        expect(leaked(foreign, markers), `${role} of another tenant read Query.${field}: ${JSON.stringify(foreign).slice(0, 500)}`).toEqual([]);
        expect(JSON.stringify(foreign.errors ?? []), `${role}: Query.${field}`).not.toMatch(/INTERNAL_SERVER_ERROR/);
      }
    }
    // The walk reaches the seeded rows at all: device, devices, site, sites, twin history, groups...
    expect(ownerSaw).toBeGreaterThanOrEqual(5);
  });

  test('every Node type by its global ID: only the owner tenant and operators see it', async ({ tenant: a, otherTenant: b }) => {
    await seed(a);
    const schema = app.pulse.app.modules.schema;
    const found = await ownNodes(a, rootFieldQueries(schema, { byName: { tenantId: a.tenantId, deviceId: 'dev-a', siteId: 'site-a', bucket: '1 hour', metric: 'temp' } }));
    expect([...found.keys()]).toEqual(expect.arrayContaining(['Device', 'Site', 'DeviceGroup', 'TwinHistoryEntry', 'DeviceConnectionEvent']));
    const NODE = 'query($id: ID!) { node(id: $id) { __typename id } }';
    for (const type of nodeTypes(schema)) {
      const id = found.get(type);
      if (!id) continue; // not seeded: its table is still covered by the policy check below
      const read = async (token: string) => (await app.gql<{ node: { __typename: string } | null }>(token, NODE, { id })).data?.node ?? null;
      expect(await read(a.token), `${type}: owner`).toMatchObject({ __typename: type });
      expect(await read(a.serviceToken), `${type}: owner's service`).toMatchObject({ __typename: type });
      expect(await read(b.operatorToken), `${type}: operator of another tenant`).toMatchObject({ __typename: type });
      expect(await read(b.token), `${type}: customer of another tenant`).toBeNull();
      expect(await read(b.serviceToken), `${type}: iot_service of another tenant`).toBeNull();
    }
  });

  test('no RLS policy grants the service role while a tenant is in scope', async () => {
    const owner = await connectPgExecutor(inject('database').ownerUrl);
    try {
      const rows = await owner.query<{ tablename: string; policyname: string; qual: string | null; with_check: string | null }>(
        `SELECT tablename, policyname, qual, with_check FROM pg_policies WHERE schemaname = current_schema() AND (qual LIKE '%iot_service%' OR with_check LIKE '%iot_service%' OR qual LIKE '%app_service_scope%')`,
      );
      expect(rows.length).toBeGreaterThan(20);
      const open = rows.filter((row) => !(row.qual ?? '').includes('app_service_scope()') || (row.with_check !== null && !row.with_check.includes('app_service_scope()')));
      expect(open.map((row) => `${row.tablename}.${row.policyname}: ${row.qual}`)).toEqual([]);
    } finally {
      await owner.close();
    }
  });
});
