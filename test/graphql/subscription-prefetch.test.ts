/**
 * A subscription's `device` re-reads start as events arrive (devices/device-event.ts): a burst of
 * events is read in one statement, and each event still gets its own device, in order.
 */
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

const WATCH = `subscription { deviceChanged { deviceId device { name } } }`;
const deviceReads = () => statements.filter((sql) => /^SELECT/i.test(sql.trim()) && sql.includes('"device_registry"'));

describe('device re-reads started on arrival', () => {
  test('a burst of events is read in one statement; each event gets its own device, in order', async ({ tenant }) => {
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const deviceId of ['warm', ...ids]) await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId, name: `Name of ${deviceId}` } });
    const client = wsClient(app.port, tenant.token);
    try {
      const listening = nextListener(app, 'deviceChanged', tenant.tenantId);
      const events = subscribe<{ deviceChanged: { deviceId: string; device: { name: string } | null } }>(client, WATCH);
      await listening;
      // The first event teaches the subscription its selection; the burst after it is read ahead.
      app.pulse.app.events.publish('deviceChanged', { tenantId: tenant.tenantId, deviceId: 'warm', change: 'UPDATED' });
      expect((await events.next()).deviceChanged.device?.name).toBe('Name of warm');

      statements = [];
      for (const deviceId of ids) app.pulse.app.events.publish('deviceChanged', { tenantId: tenant.tenantId, deviceId, change: 'UPDATED' });
      const received = [];
      for (const _ of ids) received.push((await events.next()).deviceChanged);
      expect(received).toEqual(ids.map((deviceId) => ({ deviceId, device: { name: `Name of ${deviceId}` } })));
      expect(deviceReads()).toHaveLength(1);

      // A device the subscriber cannot see (another tenant's id on this channel) reads null, as before.
      app.pulse.app.events.publish('deviceChanged', { tenantId: tenant.tenantId, deviceId: 'nobody', change: 'UPDATED' });
      expect((await events.next()).deviceChanged).toEqual({ deviceId: 'nobody', device: null });
      await events.close();
    } finally {
      await client.dispose();
    }
  });
});
