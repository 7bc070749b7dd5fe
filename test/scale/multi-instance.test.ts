import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { startMosquitto, type OwnMosquitto } from '../harness/mosquitto.js';
import { uniqueName } from '../harness/postgres.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { subscribe, wsClient } from '../harness/ws.js';

/**
 * Two API instances on one database, one broker and one Redis behave as one: an event committed
 * on one reaches subscribers on the other, and device messages are split between them by the
 * broker's shared subscription, each applied exactly once.
 */
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

let mosquitto: OwnMosquitto;
let first: TestApp;
let second: TestApp;
beforeAll(async () => {
  mosquitto = await startMosquitto();
  const shared = { MQTT_URL: mosquitto.url, REDIS_URL, MQTT_SHARED_GROUP: uniqueName('pulse').replace(/[^A-Za-z0-9_-]/g, '') };
  first = await startTestApp(shared);
  second = await startTestApp(shared);
});
afterAll(async () => {
  await first?.stop();
  await second?.stop();
  await mosquitto?.dispose();
});

describe('several instances', () => {
  test('a subscriber on one instance receives what a mutation on the other committed (Redis)', async ({ tenant }) => {
    const client = wsClient(second.port, tenant.token);
    try {
      const listening = nextListener(second, 'deviceChanged', tenant.tenantId);
      const events = subscribe<{ deviceChanged: { deviceId: string; device: { name: string } | null } }>(
        client,
        'subscription { deviceChanged { deviceId device { name } } }',
      );
      await listening;
      await first.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'via-redis', name: 'Via Redis' } });
      expect(await events.next()).toEqual({ deviceChanged: { deviceId: 'via-redis', device: { name: 'Via Redis' } } });
      await events.close();
    } finally {
      await client.dispose();
    }
  });

  test('device messages are shared between the instances ($share) and each is applied once', async ({ tenant }) => {
    const deviceIds = Array.from({ length: 8 }, (_, index) => `shared-${index}`);
    for (const deviceId of deviceIds) await first.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId, name: deviceId } });
    const settled = { first: 0, second: 0 };
    const total = deviceIds.length * 5;
    const allSettled = new Promise<void>((resolve) => {
      const count = (which: 'first' | 'second') => () => {
        settled[which] += 1;
        if (settled.first + settled.second === total) resolve();
      };
      first.pulse.app.bridge.onSettled(count('first'));
      second.pulse.app.bridge.onSettled(count('second'));
    });
    const device = await mqtt.connectAsync(mosquitto.url, { clientId: uniqueName('dev'), protocolVersion: 5, reconnectPeriod: 0 });
    try {
      for (const deviceId of deviceIds) {
        for (let beat = 0; beat < 5; beat += 1) {
          await device.publishAsync(`pulse/${tenant.tenantId}/${deviceId}/heartbeat`, JSON.stringify({ uptimeS: beat }), { qos: 1 });
        }
      }
      await allSettled;
    } finally {
      await device.endAsync();
    }
    await Promise.all([first.pulse.app.bridge.idle(), second.pulse.app.bridge.idle()]);
    // Split, not copied: each message settled on one instance only.
    expect(settled.first + settled.second).toBe(total);
    expect(settled.first).toBeGreaterThan(0);
    expect(settled.second).toBeGreaterThan(0);
    const online = await first.gql<{ devices: { totalCount: number } }>(tenant.token, '{ devices(filter: { status: [ONLINE] }) { totalCount } }');
    expect(online.data?.devices.totalCount).toBe(deviceIds.length);
  });
});
