import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import type { TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { startMosquitto, type OwnMosquitto } from '../harness/mosquitto.js';
import { uniqueName } from '../harness/postgres.js';
import { subscribe, wsClient } from '../harness/ws.js';
import { buildTopic } from '../harness/topics.js';
import { closeDevices, counterValue, inFuture, privateDatabase, readCommand, registerDevices, sendOk, simulatedDevice, startOn, statusesOf, type PrivateDatabase } from './support.js';

/**
 * Two instances on one database, one broker ($share) and one Redis: each expiry happens once,
 * a command is claimed by one instance only, and a command sent through one and acked through the
 * other streams to a subscriber of the first.
 */
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

let db: PrivateDatabase;
let mosquitto: OwnMosquitto;
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  db = await privateDatabase();
  mosquitto = await startMosquitto();
  const shared = { ...db.env, MQTT_URL: mosquitto.url, REDIS_URL, MQTT_SHARED_GROUP: uniqueName('pulse').replace(/[^A-Za-z0-9_-]/g, '') };
  a = await startOn(db, shared);
  b = await startOn(db, shared);
});
afterAll(async () => {
  await closeDevices();
  await a?.stop();
  await b?.stop();
  await mosquitto?.dispose();
  await db?.dispose();
});

describe('two instances', () => {
  test('both expiry workers at once: every command expires exactly once', async ({ tenant }) => {
    const deviceIds = Array.from({ length: 4 }, (_, index) => `away-${index}`);
    await registerDevices(a, tenant.token, deviceIds);
    const commands = [];
    for (let index = 0; index < 40; index += 1) commands.push(await sendOk(a, tenant.token, { deviceId: deviceIds[index % 4], ttlSeconds: 1 }));
    const before = (await counterValue(a, 'transitions', 'status', 'EXPIRED')) + (await counterValue(b, 'transitions', 'status', 'EXPIRED'));
    const now = inFuture(2);
    await Promise.all([a.pulse.app.workers.runAllOnce(now), b.pulse.app.workers.runAllOnce(now)]);
    const after = (await counterValue(a, 'transitions', 'status', 'EXPIRED')) + (await counterValue(b, 'transitions', 'status', 'EXPIRED'));
    expect(after - before).toBe(commands.length);
    expect(new Set(await statusesOf(a, tenant.token, commands))).toEqual(new Set(['EXPIRED']));
  });

  test('both sweeps at once over a queue no reaction dispatched: each command is published once, within the cap', async ({ tenant }) => {
    await registerDevices(a, tenant.token, ['contended']);
    const device = await simulatedDevice(a, tenant.tenantId, 'contended');
    const commands = [];
    for (let index = 0; index < 12; index += 1) commands.push(await sendOk(a, tenant.token, { deviceId: 'contended', commandType: `k${index}` }));
    await a.pulse.app.reactions.idle();
    // Harness-only: ONLINE without an event, as if the instance that saw it come back died.
    await db.sql(`UPDATE device_state SET status = 'ONLINE', last_seen_at = now() WHERE tenant_id = $1 AND device_id = 'contended'`, [tenant.tenantId]);
    const accepted = async () => (await counterValue(a, 'publishes', 'outcome', 'accepted')) + (await counterValue(b, 'publishes', 'outcome', 'accepted'));
    const before = await accepted();
    await Promise.all([a.pulse.app.workers.runAllOnce(), b.pulse.app.workers.runAllOnce()]);
    await Promise.all([a.pulse.app.reactions.idle(), b.pulse.app.reactions.idle()]);
    const arrived = [];
    for (let index = 0; index < 10; index += 1) arrived.push((await device.nextCommand()).commandType);
    expect(arrived).toEqual(Array.from({ length: 10 }, (_, index) => `k${index}`));
    expect(await statusesOf(a, tenant.token, commands)).toEqual([...Array(10).fill('SENT'), 'QUEUED', 'QUEUED']);
    // Handed to the broker exactly once each, by one instance or the other.
    expect((await accepted()) - before).toBe(10);
    const attempts = await Promise.all(commands.map(async (command) => (await readCommand(a, tenant.token, command.id))?.attempts));
    expect(attempts).toEqual([...Array(10).fill(1), 0, 0]);
  });

  test('sent through A, acked through B ($share), streamed to a subscriber on A (Redis)', async ({ tenant }) => {
    await registerDevices(a, tenant.token, ['shared']);
    const device = await simulatedDevice(a, tenant.tenantId, 'shared');
    const client = wsClient(a.port, tenant.token);
    try {
      const listening = nextListener(a, 'commandStatusChanged', tenant.tenantId);
      const events = subscribe<{ commandStatusChanged: { commandId: string; status: string } }>(
        client,
        'subscription { commandStatusChanged(deviceId: "shared") { commandId status } }',
      );
      await listening;
      // Wait for the online status on whichever instance the broker hands it to.
      const onlineSettled = settledOnEither(buildTopic.status(tenant.tenantId, 'shared'));
      await device.client.publishAsync(buildTopic.status(tenant.tenantId, 'shared'), JSON.stringify({ state: 'online', sessionId: 'm1' }), { qos: 1 });
      await onlineSettled;
      const commands = [];
      for (let index = 0; index < 8; index += 1) commands.push(await sendOk(a, tenant.token, { deviceId: 'shared', commandType: `s${index}` }));
      const ackedBy = { a: 0, b: 0 };
      for (let index = 0; index < 8; index += 1) {
        const message = await device.nextCommand();
        const topic = buildTopic.commandAck(tenant.tenantId, 'shared', message.commandId);
        const settled = settledOnEither(topic);
        await device.client.publishAsync(topic, JSON.stringify({ status: 'delivered' }), { qos: 1 });
        ackedBy[await settled] += 1;
      }
      // The broker split the acks between the instances.
      expect(ackedBy.b).toBeGreaterThan(0);
      const delivered = new Set<string>();
      while (delivered.size < commands.length) {
        const event = (await events.next()).commandStatusChanged;
        if (event.status === 'DELIVERED') delivered.add(event.commandId);
      }
      expect([...delivered].sort()).toEqual(commands.map((command) => command.commandId).sort());
      await events.close();
    } finally {
      await client.dispose();
    }
  });
});

/** Resolves with the instance whose bridge settled the next message on `topic`. */
function settledOnEither(topic: string): Promise<'a' | 'b'> {
  return new Promise((resolve) => {
    const offs = (['a', 'b'] as const).map((which) =>
      (which === 'a' ? a : b).pulse.app.bridge.onSettled((message) => {
        if (message.topic !== topic) return;
        offs.forEach((off) => off());
        resolve(which);
      }),
    );
  });
}
