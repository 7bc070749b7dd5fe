import type pg from 'pg';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { uniqueName, withAdmin } from '../harness/postgres.js';
import { subscribe, wsClient } from '../harness/ws.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const REGISTER_TWO = /* GraphQL */ `
  mutation Two($first: RegisterDeviceInput!, $second: RegisterDeviceInput!) {
    first: registerDevice(input: $first) { __typename ... on Error { code } }
    second: registerDevice(input: $second) { __typename ... on Error { code } }
  }
`;
const REGISTER = /* GraphQL */ `
  mutation One($input: RegisterDeviceInput!) { registerDevice(input: $input) { __typename ... on Error { code } } }
`;
const DEVICE_IDS = /* GraphQL */ `{ devices(filter: { includeDecommissioned: true }) { edges { node { deviceId } } } }`;

/** As the database owner: what the app role's RLS would hide or what no API exposes. */
function asOwner<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withAdmin(work, inject('database').name);
}

async function deviceIds(token: string): Promise<string[]> {
  const result = await app.gql<{ devices: { edges: Array<{ node: { deviceId: string } }> } }>(token, DEVICE_IDS);
  return result.data!.devices.edges.map((edge) => edge.node.deviceId);
}

describe('typed errors never poison the operation', () => {
  test('a field answering AlreadyExists (a unique violation) does not stop the next root field', async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER, { input: { deviceId: 'taken', name: 'Taken' } });
    const result = await app.gql(tenant.token, REGISTER_TWO, {
      first: { deviceId: 'taken', name: 'Again' },
      second: { deviceId: 'fresh', name: 'Fresh' },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ first: { __typename: 'AlreadyExists', code: 'ALREADY_EXISTS' }, second: { __typename: 'RegisterDevicePayload' } });
    expect(await deviceIds(tenant.token)).toEqual(['fresh', 'taken']);
  });

  test('a field answering a typed error leaves nothing of its own work, alone or among others', async ({ tenant }) => {
    // ensureTenant runs before the site check: without the rollback the tenant row would stay.
    const alone = await app.gql(tenant.token, REGISTER, { input: { deviceId: 'd1', name: 'D1', siteId: 'nowhere' } });
    expect(alone.data).toEqual({ registerDevice: { __typename: 'NotFound', code: 'NOT_FOUND' } });
    const tenants = await asOwner((client) => client.query('SELECT 1 FROM tenants WHERE tenant_id = $1', [tenant.tenantId]));
    expect(tenants.rowCount).toBe(0);

    const mixed = await app.gql(tenant.token, REGISTER_TWO, {
      first: { deviceId: 'd2', name: 'D2', siteId: 'nowhere' },
      second: { deviceId: 'd3', name: 'D3' },
    });
    expect(mixed.data).toEqual({ first: { __typename: 'NotFound', code: 'NOT_FOUND' }, second: { __typename: 'RegisterDevicePayload' } });
    expect(await deviceIds(tenant.token)).toEqual(['d3']);
  });

  test('an unexpected error rolls the whole mutation back, and the events its fields queued are never delivered', async ({ tenant }) => {
    // A trigger that fails the second field's insert the way an unforeseen database error would.
    const poison = uniqueName('poison');
    const trigger = `${poison}_trigger`;
    await asOwner(async (client) => {
      await client.query(`CREATE FUNCTION ${poison}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.key = '${poison}' THEN RAISE EXCEPTION 'poisoned tag'; END IF; RETURN NEW; END $$`);
      await client.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON device_tags FOR EACH ROW EXECUTE FUNCTION ${poison}()`);
    });
    const client = wsClient(app.port, tenant.token);
    try {
      const listening = nextListener(app, 'deviceChanged', tenant.tenantId);
      const events = subscribe<{ deviceChanged: { deviceId: string } }>(client, `subscription { deviceChanged { deviceId } }`);
      await listening;
      const result = await app.gql(tenant.token, REGISTER_TWO, {
        first: { deviceId: 'committed-never', name: 'First' },
        second: { deviceId: 'poisoned', name: 'Second', tags: [{ key: poison, value: 'x' }] },
      });
      expect(result.errors?.[0]?.message).toMatch(/Unexpected error/);
      expect(result.errors?.[0]?.message).not.toMatch(/poisoned|device_tags|trigger/);
      expect(await deviceIds(tenant.token)).toEqual([]);
      // The first field's deviceChanged was queued, then discarded with the transaction: the next event is the marker's.
      await app.gql(tenant.token, REGISTER, { input: { deviceId: 'marker', name: 'Marker' } });
      expect((await events.next()).deviceChanged.deviceId).toBe('marker');
      await events.close();
    } finally {
      await client.dispose();
      await asOwner(async (admin) => {
        await admin.query(`DROP TRIGGER ${trigger} ON device_tags`);
        await admin.query(`DROP FUNCTION ${poison}()`);
      });
    }
  });
});
