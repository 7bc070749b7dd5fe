import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { nextListener } from '../harness/listeners.js';
import { subscribe, wsClient } from '../harness/ws.js';

let app: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  app = await startTestApp({}, { autoStartWorkers: false, onQuery: (sql) => statements.push(sql) });
});
afterAll(() => app.stop());

const WATCH = `subscription { deviceChanged { deviceId device { name tags { key value } } } }`;
const reads = () => statements.filter((sql) => /^SELECT/i.test(sql.trim()) && sql.includes('"device_registry"'));

describe('device re-reads for subscribers', () => {
  test('subscribers of one event with the same role and selection share one read', async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'shared', name: 'Shared', tags: [{ key: 'k', value: 'v' }] } });
    const clients = [wsClient(app.port, tenant.token), wsClient(app.port, tenant.token), wsClient(app.port, tenant.operatorToken)];
    try {
      const listening = nextListener(app, 'deviceChanged', tenant.tenantId, clients.length);
      const subscriptions = clients.map((client) => subscribe<{ deviceChanged: unknown }>(client, WATCH));
      await listening;
      statements = [];
      app.pulse.app.events.publish('deviceChanged', { tenantId: tenant.tenantId, deviceId: 'shared', change: 'UPDATED' });
      const received = await Promise.all(subscriptions.map((subscription) => subscription.next()));
      const expected = { deviceChanged: { deviceId: 'shared', device: { name: 'Shared', tags: [{ key: 'k', value: 'v' }] } } };
      expect(received).toEqual([expected, expected, expected]);
      // Two customers share one read; the operator (another role, other RLS policies) reads on its own.
      expect(reads()).toHaveLength(2);
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });
});
