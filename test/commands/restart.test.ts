import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import type { TestApp } from '../harness/app.js';
import { startMosquitto, type OwnMosquitto } from '../harness/mosquitto.js';
import { uniqueName } from '../harness/postgres.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { startPulseProcess } from './processes.js';
import {
  SEND_COMMAND,
  closeDevices,
  inFuture,
  privateDatabase,
  readCommand,
  sendOk,
  simulatedDevice,
  startOn,
  type Command,
  type PrivateDatabase,
  type SimulatedDevice,
} from './support.js';

/**
 * Restart and outage safety: a kill -9 of the server with commands in flight, and a broker
 * restart. Every command ends in exactly one terminal state, and the server hands none of them to
 * a device twice.
 */
let db: PrivateDatabase;
const brokers: OwnMosquitto[] = [];
const apps: TestApp[] = [];
beforeAll(async () => {
  db = await privateDatabase();
});
afterAll(async () => {
  await closeDevices();
  for (const app of apps) await app.stop();
  for (const broker of brokers) await broker.dispose();
  await db?.dispose();
});

const KEEP_PRESENCE = /* GraphQL */ `mutation { setPresenceTimeouts(input: { staleAfterSeconds: 2500000, offlineAfterSeconds: 2592000 }) { __typename } }`;

const idsOf = (device: SimulatedDevice) => device.received.map((message) => message.commandId);

describe('kill -9 of the server', () => {
  test('with commands SENT, held by the cap and held offline: after the restart each ends once, none is sent twice', async ({ tenant }) => {
    const broker = await startMosquitto();
    brokers.push(broker);
    // The successor takes over the persistent session (same client ID): acks sent while no
    // server ran are waiting there.
    const env = { ...db.env, MQTT_URL: broker.url, MQTT_CLIENT_ID: uniqueName('pulse-crash'), COMMANDS_MAX_IN_FLIGHT: '2' };
    const first = await startPulseProcess(env);
    let killed = false;
    try {
      await first.watch(tenant.tenantId);
      await first.gql(tenant.token, KEEP_PRESENCE);
      for (const deviceId of ['worker', 'sleeper', 'mute']) {
        const registered = await first.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId, name: deviceId } });
        expect(registered.errors).toBeUndefined();
      }
      const worker = await simulatedDevice(null, tenant.tenantId, 'worker', { url: broker.url });
      const sleeper = await simulatedDevice(null, tenant.tenantId, 'sleeper', { url: broker.url });
      const mute = await simulatedDevice(null, tenant.tenantId, 'mute', { url: broker.url });
      for (const device of [worker, mute]) {
        await device.client.publishAsync(`pulse/${tenant.tenantId}/${device.deviceId}/status`, JSON.stringify({ state: 'online', sessionId: uniqueName('s') }), { qos: 1 });
      }
      const sendVia = async (deviceId: string, commandType: string, ttlSeconds = 3_600) => {
        const result = await first.gql<{ sendCommand: { command: Command } }>(tenant.token, SEND_COMMAND, { input: { deviceId, commandType, ttlSeconds } });
        return result.data!.sendCommand.command;
      };
      const c1 = await sendVia('worker', 'c1');
      const c2 = await sendVia('worker', 'c2');
      const c3 = await sendVia('worker', 'c3');
      const c4 = await sendVia('sleeper', 'c4');
      const c5 = await sendVia('mute', 'c5', 30);
      // In flight when the server dies: c1, c2 (worker's cap of 2) and c5; c3 waits for a slot, c4 for its device.
      expect([(await worker.nextCommand()).commandId, (await worker.nextCommand()).commandId]).toEqual([c1.commandId, c2.commandId]);
      expect((await mute.nextCommand()).commandId).toBe(c5.commandId);
      // Killed only once the PUBACKs are on record, so the test knows which state it crashes in.
      const sent = new Set<string>();
      while (sent.size < 3) {
        const event = await first.nextEvent();
        if (event.status === 'SENT') sent.add(event.commandId);
      }
      expect([...sent].sort()).toEqual([c1.commandId, c2.commandId, c5.commandId].sort());

      await first.kill();
      killed = true;
      // While no server runs: the worker acks c2; the broker keeps it for the server's session.
      await worker.publishAck(c2.commandId);

      const second = await startOn(db, env);
      apps.push(second);
      // The held ack arrived right after CONNACK, before the bridge's SUBACK: idle() covers it.
      await second.pulse.app.bridge.idle();
      await second.pulse.app.reactions.idle();
      expect((await readCommand(second, tenant.token, c2.id))?.status).toBe('DELIVERED');

      // c2's ack freed a slot: c3 goes out (at start-up or on that ack), exactly once.
      expect((await worker.nextCommand()).commandId).toBe(c3.commandId);
      await worker.ack(c1.commandId, undefined, second);
      await worker.ack(c3.commandId, undefined, second);
      // The sleeper comes back: its held command goes out.
      await sleeper.online(second);
      expect((await sleeper.nextCommand()).commandId).toBe(c4.commandId);
      await sleeper.ack(c4.commandId, { status: 'failed', error: 'no disk' }, second);
      // The mute device never answers: MISSED after its TTL.
      await second.pulse.app.workers.runAllOnce(inFuture(31));
      await second.pulse.app.reactions.idle();

      const final = await Promise.all([c1, c2, c3, c4, c5].map((command) => readCommand(second, tenant.token, command.id)));
      expect(final.map((command) => command?.status)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED', 'FAILED', 'MISSED']);
      expect(final.map((command) => command?.attempts)).toEqual([1, 1, 1, 1, 1]);
      expect(idsOf(worker)).toEqual([c1.commandId, c2.commandId, c3.commandId]);
      expect(idsOf(sleeper)).toEqual([c4.commandId]);
      expect(idsOf(mute)).toEqual([c5.commandId]);
    } finally {
      if (!killed) await first.kill();
    }
    // A child process compiles the whole server with tsx before it listens: slow on a busy machine.
  }, 120_000);
});

/** Until `/ready` says the server's broker connection is back (mqtt.js reconnects on its own timer). */
async function brokerReady(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const response = await fetch(`http://127.0.0.1:${port}/ready`);
    if (response.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the server did not reconnect to the broker within 10 s');
}

describe('broker restart', () => {
  test('a command sent before and one sent during the outage each reach the device once and are delivered', async ({ tenant }) => {
    const broker = await startMosquitto({ persistent: true });
    brokers.push(broker);
    const app = await startOn(db, { MQTT_URL: broker.url, MQTT_CLIENT_ID: uniqueName('pulse-outage') });
    apps.push(app);
    await app.gql(tenant.token, KEEP_PRESENCE);
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'steady', name: 'steady' } });
    const device = await simulatedDevice(app, tenant.tenantId, 'steady', { reconnectPeriod: 200 });
    await device.online();
    const before = await sendOk(app, tenant.token, { deviceId: 'steady', commandType: 'before' });
    expect((await device.nextCommand()).commandId).toBe(before.commandId);
    await app.pulse.app.reactions.idle();

    const deviceLost = new Promise<void>((resolve) => device.client.once('offline', () => resolve()));
    await broker.stop();
    await deviceLost;
    const during = await sendOk(app, tenant.token, { deviceId: 'steady', commandType: 'during' });
    const deviceBack = new Promise<void>((resolve) => device.client.once('connect', () => resolve()));
    await broker.start();
    await deviceBack;
    await brokerReady(app.port);

    // The command sent during the outage was refused by the messenger (not recorded SENT) and is
    // still QUEUED: the sweep hands it over now that the server is connected again.
    await app.pulse.app.reactions.idle();
    await app.pulse.app.workers.runAllOnce();
    expect((await device.nextCommand()).commandId).toBe(during.commandId);
    expect(await device.ack(before.commandId)).toEqual({ status: 'applied' });
    expect(await device.ack(during.commandId)).toEqual({ status: 'applied' });
    expect((await readCommand(app, tenant.token, before.id))?.status).toBe('DELIVERED');
    expect((await readCommand(app, tenant.token, during.id))?.status).toBe('DELIVERED');
    expect(idsOf(device)).toEqual([before.commandId, during.commandId]);
  });
});
