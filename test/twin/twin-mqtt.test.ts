import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { uniqueName, withAdmin } from '../harness/postgres.js';
import { readHistory, readTwin, registerDevice, writeDesired } from './helpers.js';
import { metricValue, nextTwinReport } from './probes.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync()));
});

/** A device on the shared Mosquitto (anonymous allowed there). */
async function connectDevice(): Promise<MqttClient> {
  const client = await connectAsync(app.mqttUrl, { clientId: uniqueName('twin-dev'), protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(client);
  return client;
}

/** Publishes a report and resolves with this app's outcome once its effect is committed. */
async function report(device: MqttClient, tenantId: string, deviceId: string, payload: unknown, options: { dup?: boolean } = {}) {
  const handled = nextTwinReport(app, tenantId, deviceId);
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  await device.publishAsync(`pulse/${tenantId}/${deviceId}/twin/reported`, body, { qos: 1, ...options });
  return handled;
}

type Received = { payload: { version: number; state: Record<string, unknown>; ts: string }; retain: boolean };

/** The next message on `topic`; register before the message can arrive. */
function nextMessage(client: MqttClient, topic: string): Promise<Received> {
  return new Promise((resolve) => {
    const onMessage = (received: string, payload: Buffer, packet: { retain: boolean }) => {
      if (received !== topic) return;
      client.off('message', onMessage);
      resolve({ payload: JSON.parse(payload.toString()) as Received['payload'], retain: packet.retain });
    };
    client.on('message', onMessage);
  });
}

async function setStatus(tenantId: string, deviceId: string, status: 'ONLINE' | 'OFFLINE'): Promise<void> {
  // No API sets presence (the connectivity module owns it); seed it directly, seen just now so that
  // a presence evaluator run by another test app does not take it for a silent device.
  const sql = 'UPDATE device_state SET status = $3, last_seen_at = now(), status_changed_at = now() WHERE tenant_id = $1 AND device_id = $2';
  await withAdmin(
    (client) => client.query(sql, [tenantId, deviceId, status]),
    inject('database').name,
  );
}

describe('reported state over MQTT', () => {
  test('a report updates reported, the structured delta and the sync status; convergence is timed', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'sensor');
    await writeDesired(app, tenant.token, { deviceId: 'sensor', desired: { fw: '2.0', mode: 'eco', net: { apn: 'iot' } } });
    const device = await connectDevice();
    expect(await report(device, tenant.tenantId, 'sensor', { state: { fw: '1.0', mode: 'eco', uptime: 5 } })).toMatchObject({
      status: expect.stringMatching(/^(applied|duplicate)$/),
    });

    // A report is a sign of life: the device is ONLINE now, so the difference is PENDING.
    const offline = (await readTwin(app, tenant.token, 'sensor'))!;
    expect(offline).toMatchObject({ reported: { fw: '1.0', mode: 'eco', uptime: 5 }, reportedVersion: 1, desiredVersion: 1, syncStatus: 'PENDING' });
    expect(offline.delta).toEqual({
      added: [{ path: 'net.apn', value: 'iot' }],
      removed: [{ path: 'uptime', value: 5 }],
      changed: [{ path: 'fw', desired: '2.0', reported: '1.0' }],
      unchanged: ['mode'],
    });
    expect(offline.pendingSince).toBe(offline.desiredUpdatedAt);
    expect(offline.metadata.reported).toEqual({
      fw: { $lastUpdated: new Date(offline.reportedUpdatedAt!).toISOString() },
      mode: { $lastUpdated: new Date(offline.reportedUpdatedAt!).toISOString() },
      uptime: { $lastUpdated: new Date(offline.reportedUpdatedAt!).toISOString() },
    });
    expect(offline.lastConvergence).toBeNull();
    const history = await readHistory(app, tenant.token, { deviceId: 'sensor', direction: 'REPORTED' });
    expect(history.edges.map((edge) => edge.node)).toMatchObject([
      { direction: 'REPORTED', version: 1, actorType: 'DEVICE', actorId: 'sensor', mode: 'MERGE', patch: { fw: '1.0', mode: 'eco', uptime: 5 } },
    ]);

    await setStatus(tenant.tenantId, 'sensor', 'OFFLINE');
    expect((await readTwin(app, tenant.token, 'sensor'))!.syncStatus).toBe('STALE');

    await report(device, tenant.tenantId, 'sensor', { state: { fw: '2.0', net: { apn: 'iot' } } });
    const synced = (await readTwin(app, tenant.token, 'sensor'))!;
    expect(synced).toMatchObject({ reportedVersion: 2, syncStatus: 'IN_SYNC', pendingSince: null });
    expect(synced.delta).toMatchObject({ added: [], changed: [], unchanged: ['fw', 'mode', 'net.apn'] });
    expect(synced.lastConvergence).toMatchObject({ desiredVersion: 1, desiredAt: synced.desiredUpdatedAt, convergedAt: synced.reportedUpdatedAt });
    expect(synced.lastConvergence!.seconds).toBeGreaterThan(0);
  });

  test('a redelivered identical report is a duplicate: reportedVersion and history do not move', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'redo');
    const device = await connectDevice();
    const payload = { state: { a: 1, b: { c: true } } };
    await report(device, tenant.tenantId, 'redo', payload);
    expect(await report(device, tenant.tenantId, 'redo', payload, { dup: true })).toEqual({ status: 'duplicate' });
    expect(await report(device, tenant.tenantId, 'redo', { state: { a: 1 } })).toEqual({ status: 'duplicate' });
    expect(await readTwin(app, tenant.token, 'redo')).toMatchObject({ reported: { a: 1, b: { c: true } }, reportedVersion: 1 });
    expect((await readHistory(app, tenant.token, { deviceId: 'redo', direction: 'REPORTED' })).totalCount).toBe(1);
  });

  test('mode replace replaces the reported document', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'rep');
    const device = await connectDevice();
    await report(device, tenant.tenantId, 'rep', { state: { a: 1, b: 2 } });
    await report(device, tenant.tenantId, 'rep', { state: { b: 3 }, mode: 'replace' });
    expect(await readTwin(app, tenant.token, 'rep')).toMatchObject({ reported: { b: 3 }, reportedVersion: 2 });
    const history = await readHistory(app, tenant.token, { deviceId: 'rep', direction: 'REPORTED', first: 1 });
    expect(history.edges[0]!.node).toMatchObject({ mode: 'REPLACE', patch: { a: null, b: 3 }, document: { b: 3 } });
  });

  test('an oversized or too deep report is rejected, counted in /metrics, and the stored twin is kept', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'huge');
    const device = await connectDevice();
    await report(device, tenant.tenantId, 'huge', { state: { ok: true } });
    const labels = { kind: 'twinReported', reason: 'TOO_LARGE' };
    const before = await metricValue(app, 'pulse_mqtt_rejected_total', labels);
    // Over the 32 KiB twin limit but under the transport's payload limit, so the twin rule decides.
    expect(await report(device, tenant.tenantId, 'huge', { state: { blob: 'x'.repeat(40_000) } })).toEqual({ status: 'rejected', reason: 'TOO_LARGE' });
    expect(await metricValue(app, 'pulse_mqtt_rejected_total', labels)).toBeGreaterThanOrEqual(before + 1);

    let deep: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 12; level += 1) deep = { d: deep };
    const deepBefore = await metricValue(app, 'pulse_mqtt_rejected_total', { kind: 'twinReported', reason: 'TOO_DEEP' });
    expect(await report(device, tenant.tenantId, 'huge', { state: deep })).toEqual({ status: 'rejected', reason: 'TOO_DEEP' });
    expect(await metricValue(app, 'pulse_mqtt_rejected_total', { kind: 'twinReported', reason: 'TOO_DEEP' })).toBeGreaterThanOrEqual(deepBefore + 1);
    expect(await readTwin(app, tenant.token, 'huge')).toMatchObject({ reported: { ok: true }, reportedVersion: 1 });
  });

  test('reports for unknown or decommissioned devices are rejected as UNKNOWN_DEVICE', async ({ tenant }) => {
    const device = await connectDevice();
    expect(await report(device, tenant.tenantId, 'never-registered', { state: { a: 1 } })).toEqual({ status: 'rejected', reason: 'UNKNOWN_DEVICE' });
    await registerDevice(app, tenant.token, 'retired');
    await app.gql(tenant.token, `mutation { decommissionDevice(input: { deviceId: "retired" }) { __typename } }`);
    expect(await report(device, tenant.tenantId, 'retired', { state: { a: 1 } })).toEqual({ status: 'rejected', reason: 'UNKNOWN_DEVICE' });
    expect(await readTwin(app, tenant.token, 'retired')).toMatchObject({ reported: {}, reportedVersion: 0 });
  });
});

describe('desired state to the device', () => {
  test('each accepted write is published retained; a device connecting later gets the current version', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'thermo');
    const topic = `pulse/${tenant.tenantId}/thermo/twin/desired`;
    await writeDesired(app, tenant.token, { deviceId: 'thermo', desired: { target: 20 } });
    await writeDesired(app, tenant.token, { deviceId: 'thermo', desired: { mode: 'eco' } });

    // Connects after both writes: the broker hands it the retained, latest document.
    const late = await connectDevice();
    const retained = nextMessage(late, topic);
    await late.subscribeAsync(topic, { qos: 1 });
    const first = await retained;
    expect(first.retain).toBe(true);
    expect(first.payload).toMatchObject({ version: 2, state: { target: 20, mode: 'eco' } });
    expect(Number.isNaN(Date.parse(first.payload.ts))).toBe(false);

    // While subscribed, the next write arrives live.
    const live = nextMessage(late, topic);
    await writeDesired(app, tenant.token, { deviceId: 'thermo', desired: { target: null } });
    expect((await live).payload).toMatchObject({ version: 3, state: { mode: 'eco' } });
  });

  test('a failed broker publish does not fail the write', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'offline-broker');
    const services = app.pulse.app.services;
    const messenger = services.messenger;
    services.messenger = { publish: () => Promise.reject(new Error('broker unavailable')) };
    try {
      const result = await writeDesired(app, tenant.token, { deviceId: 'offline-broker', desired: { a: 1 } });
      expect(result).toMatchObject({ __typename: 'UpdateDeviceTwinDesiredPayload', desiredVersion: 1 });
    } finally {
      services.messenger = messenger;
    }
    expect(await readTwin(app, tenant.token, 'offline-broker')).toMatchObject({ desired: { a: 1 }, desiredVersion: 1 });
  });
});
