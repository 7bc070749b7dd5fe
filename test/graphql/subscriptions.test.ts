import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { nextListener } from '../harness/listeners.js';
import { subscribe, wsClient } from '../harness/ws.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const DEVICE_CHANGED = `subscription($deviceId: String) { deviceChanged(deviceId: $deviceId) { change deviceId device { name tags { key value } } } }`;

describe('subscriptions over graphql-ws', () => {
  test('deliver changes after commit, re-read in the subscriber scope, only for the subscriber tenant', async ({ tenant, otherTenant }) => {
    const mine = wsClient(app.port, tenant.token);
    const theirs = wsClient(app.port, otherTenant.token);
    try {
      const listening = Promise.all([nextListener(app, 'deviceChanged', tenant.tenantId), nextListener(app, 'deviceChanged', otherTenant.tenantId)]);
      const own = subscribe<{ deviceChanged: unknown }>(mine, DEVICE_CHANGED);
      const other = subscribe<{ deviceChanged: { deviceId: string } }>(theirs, DEVICE_CHANGED);
      await listening;

      await app.gql(otherTenant.token, REGISTER_DEVICE, { input: { deviceId: 'theirs-1', name: 'Theirs' } });
      await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'mine-1', name: 'Mine', tags: [{ key: 'k', value: 'v' }] } });

      expect(await own.next()).toEqual({
        deviceChanged: { change: 'REGISTERED', deviceId: 'mine-1', device: { name: 'Mine', tags: [{ key: 'k', value: 'v' }] } },
      });
      // The other tenant's first event is its own device: mine never reached it.
      expect((await other.next()).deviceChanged.deviceId).toBe('theirs-1');
      await Promise.all([own.close(), other.close()]);
    } finally {
      await Promise.all([mine.dispose(), theirs.dispose()]);
    }
  });

  test('a mutation answering a typed error publishes nothing', async ({ tenant }) => {
    const client = wsClient(app.port, tenant.token);
    try {
      const listening = nextListener(app, 'deviceChanged', tenant.tenantId);
      const events = subscribe<{ deviceChanged: { deviceId: string } }>(client, DEVICE_CHANGED);
      await listening;
      // Registered twice: the second is AlreadyExists, which writes and publishes nothing.
      await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'once', name: 'Once' } });
      await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'once', name: 'Twice' } });
      await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'marker', name: 'Marker' } });
      expect((await events.next()).deviceChanged.deviceId).toBe('once');
      expect((await events.next()).deviceChanged.deviceId).toBe('marker');
      await events.close();
    } finally {
      await client.dispose();
    }
  });

  test('a socket without a token is refused; queries over the socket use the same auth and transaction', async ({ tenant }) => {
    const anonymous = wsClient(app.port, null);
    await expect(anonymous.iterate({ query: '{ devices { totalCount } }' }).next()).rejects.toMatchObject({ code: 4403 });
    await anonymous.dispose();

    const client = wsClient(app.port, tenant.token);
    try {
      await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'ws-1', name: 'ws' } });
      const result = await client.iterate<{ devices: { totalCount: number } }>({ query: '{ devices { totalCount } }' }).next();
      expect(result.value).toEqual({ data: { devices: { totalCount: 1 } } });
    } finally {
      await client.dispose();
    }
  });

  test('a socket with an invalid token is refused at connection (4403)', async () => {
    const client = wsClient(app.port, 'not-a-jwt');
    try {
      await expect(client.iterate({ query: DEVICE_CHANGED }).next()).rejects.toMatchObject({ code: 4403 });
    } finally {
      await client.dispose();
    }
  });
});
