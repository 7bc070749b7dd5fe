import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { createMigratedDatabase, dropScratchDatabase, uniqueName, withAdmin, type ScratchDatabase } from '../harness/postgres.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { vi } from 'vitest';

/**
 * While the database is unavailable, device messages are neither applied nor dropped: they stay
 * unacknowledged and are applied once it is back. Runs on a database of its own, which it makes
 * refuse connections.
 */
let database: ScratchDatabase;
let app: TestApp;
beforeAll(async () => {
  database = await createMigratedDatabase('pulse_outage');
  app = await startTestApp({ DATABASE_URL: database.appUrl, MIGRATION_DATABASE_URL: database.ownerUrl });
});
afterAll(async () => {
  await app?.stop();
  await withAdmin((client) => client.query(`ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS true`));
  await dropScratchDatabase(database);
});

async function metric(name: string): Promise<string> {
  return (await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text()).split('\n').filter((line) => line.startsWith(name)).join('\n');
}

describe('database outage during ingest', () => {
  test('messages are held back unacknowledged and applied when the database returns', async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'patient', name: 'Patient' } });
    await withAdmin(async (client) => {
      await client.query(`ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS false`);
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database.name]);
    });
    const ready = await fetch(`http://127.0.0.1:${app.port}/ready`);
    expect(ready.status).toBe(503);

    const settled = new Promise<string>((resolve) => {
      const off = app.pulse.app.bridge.onSettled((message) => {
        off();
        resolve(message.outcome.status);
      });
    });
    const device = await mqtt.connectAsync(app.mqttUrl, { clientId: uniqueName('dev'), protocolVersion: 5, reconnectPeriod: 0 });
    try {
      await device.publishAsync(`pulse/${tenant.tenantId}/patient/heartbeat`, JSON.stringify({ uptimeS: 1 }), { qos: 1 });
      // Broker-driven and retried on a timer: a bounded poll until the bridge has retried at least once.
      await vi.waitFor(async () => expect(await metric('pulse_mqtt_batch_retries_total ')).toMatch(/ [1-9]\d*$/), { timeout: 10_000, interval: 50 });

      await withAdmin((client) => client.query(`ALTER DATABASE "${database.name}" ALLOW_CONNECTIONS true`));
      expect(await settled).toBe('applied');
    } finally {
      await device.endAsync();
    }
    const status = await app.gql<{ device: { status: string } }>(tenant.token, '{ device(deviceId: "patient") { status } }');
    expect(status.data?.device.status).toBe('ONLINE');
    expect(await metric('pulse_mqtt_messages_total')).not.toMatch(/outcome="failed"/);
  });
});
