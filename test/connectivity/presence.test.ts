import { vi } from 'vitest';
import { evaluatePresence } from '../../src/modules/connectivity/evaluator.js';
import { buildTopic } from '../harness/topics.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { uniqueName } from '../harness/postgres.js';
import { closeClients, deviceClient, keepPresence, presenceOf, publishSettled, registerDevice, setTimeouts, status } from './support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

/*
 * The evaluator works across all tenants and test files run in parallel, so a run with a clock far
 * ahead would move other tests' devices. The worker's own run (runAllOnce) is therefore used with
 * short timeouts and a clock at most seconds ahead; other evaluator tests scope it to their tenant.
 * Devices of the other files keep month-long timeouts (keepPresence).
 */
const SECOND = 1_000;
/**
 * Runs the evaluator `seconds` after the device was last heard from (workers take `now`, so
 * nothing sleeps), independent of how slowly the test itself runs.
 */
const evaluateAfterSeen = (lastSeenAt: string | null, seconds: number) =>
  app.pulse.app.workers.runAllOnce(new Date(Date.parse(lastSeenAt ?? '') + seconds * SECOND));
/** The same evaluation, limited to one tenant, so no other test's devices are touched. */
const evaluateTenant = (tenantId: string, seconds: number) =>
  evaluatePresence(app.pulse.app.runner, new Date(Date.now() + seconds * SECOND), app.config.presence, { tenantId });
const summary = (events: Array<{ reason: string; previousStatus: string | null; newStatus: string }>) =>
  events.map((event) => `${event.reason}:${event.previousStatus}->${event.newStatus}`);

describe('presence transitions', () => {
  test('online → STALE → heard from → ONLINE → OFFLINE, each transition logged once', async ({ tenant }) => {
    await setTimeouts(app, tenant.token, { staleAfterSeconds: 5, offlineAfterSeconds: 10 });
    await registerDevice(app, tenant.token, 'p1');
    const device = await deviceClient({ url: app.mqttUrl });
    const sessionId = uniqueName('s');
    await publishSettled(app, device, buildTopic.status(tenant.tenantId, 'p1'), status('online', sessionId));
    const online = await presenceOf(app, tenant.token, 'p1');
    expect(online).toMatchObject({ status: 'ONLINE', events: [{ eventType: 'CONNECTED', reason: 'MQTT_CONNECT', sessionId }] });

    await evaluateAfterSeen(online.lastSeenAt, 2);
    expect((await presenceOf(app, tenant.token, 'p1')).status).toBe('ONLINE');
    await evaluateAfterSeen(online.lastSeenAt, 7);
    await evaluateAfterSeen(online.lastSeenAt, 7); // a second run finds nothing new to do
    expect(await presenceOf(app, tenant.token, 'p1')).toMatchObject({ status: 'STALE', events: [{ eventType: 'DISCONNECTED', reason: 'STALE' }, {}] });

    await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, 'p1'), JSON.stringify({ uptimeS: 12 }));
    await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, 'p1'), JSON.stringify({ uptimeS: 13 }));
    const back = await presenceOf(app, tenant.token, 'p1');
    expect(back.status).toBe('ONLINE');

    await evaluateAfterSeen(back.lastSeenAt, 15);
    const after = await presenceOf(app, tenant.token, 'p1');
    expect(after.status).toBe('OFFLINE');
    expect(summary(after.events)).toEqual(['HEARTBEAT_TIMEOUT:ONLINE->OFFLINE', 'HEARTBEAT:STALE->ONLINE', 'STALE:ONLINE->STALE', 'MQTT_CONNECT:OFFLINE->ONLINE']);
    expect(after.events.map((event) => event.sessionId)).toEqual([sessionId, sessionId, sessionId, sessionId]);
  });

  test("a device's own timeouts win over its tenant's", async ({ tenant }) => {
    await setTimeouts(app, tenant.token, { staleAfterSeconds: 100, offlineAfterSeconds: 200 });
    await Promise.all(['quick', 'slow'].map((id) => registerDevice(app, tenant.token, id)));
    const override = await setTimeouts(app, tenant.token, { deviceId: 'quick', staleAfterSeconds: 10, offlineAfterSeconds: 12 });
    expect(override).toEqual({ __typename: 'PresenceTimeouts', staleAfterSeconds: 10, offlineAfterSeconds: 12 });
    const device = await deviceClient({ url: app.mqttUrl });
    for (const id of ['quick', 'slow']) await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, id), '{}');

    await evaluateTenant(tenant.tenantId, 15);
    expect((await presenceOf(app, tenant.token, 'quick')).status).toBe('OFFLINE');
    expect((await presenceOf(app, tenant.token, 'slow')).status).toBe('ONLINE');
  });

  test('timeouts are validated: order, range, unknown device', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'v1');
    expect(await setTimeouts(app, tenant.token, { staleAfterSeconds: 300, offlineAfterSeconds: 100 })).toMatchObject({ __typename: 'ValidationError' });
    expect(await setTimeouts(app, tenant.token, { staleAfterSeconds: 0 })).toMatchObject({ __typename: 'ValidationError' });
    expect(await setTimeouts(app, tenant.token, { deviceId: 'ghost', staleAfterSeconds: 10 })).toMatchObject({ __typename: 'NotFound' });
    // Against the value already stored: the database's order check, mapped to the same error.
    await setTimeouts(app, tenant.token, { deviceId: 'v1', staleAfterSeconds: 100, offlineAfterSeconds: 200 });
    expect(await setTimeouts(app, tenant.token, { deviceId: 'v1', staleAfterSeconds: 500 })).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    await setTimeouts(app, tenant.token, { offlineAfterSeconds: 400 });
    expect(await setTimeouts(app, tenant.token, { staleAfterSeconds: 400 })).toMatchObject({ __typename: 'ValidationError' });
    expect(await setTimeouts(app, tenant.token, { deviceId: 'v1', staleAfterSeconds: null, offlineAfterSeconds: null })).toEqual({
      __typename: 'PresenceTimeouts',
      staleAfterSeconds: 90,
      offlineAfterSeconds: 400,
    });
  });
});

describe('status messages and sessions', () => {
  test('an offline from an older session is ignored; a new session starts with its online', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'fence');
    const device = await deviceClient({ url: app.mqttUrl });
    const topic = buildTopic.status(tenant.tenantId, 'fence');
    const [s1, s2] = [uniqueName('s1'), uniqueName('s2')];

    await publishSettled(app, device, topic, status('online', s1));
    await publishSettled(app, device, topic, status('online', s2));
    // The will of the first connection, delivered after the device reconnected.
    expect(await publishSettled(app, device, topic, status('offline', s1))).toEqual({ status: 'duplicate' });
    expect((await presenceOf(app, tenant.token, 'fence')).status).toBe('ONLINE');

    await publishSettled(app, device, topic, status('offline', s2));
    // A late online of the first session does not resurrect it.
    await publishSettled(app, device, topic, status('online', s1));
    const after = await presenceOf(app, tenant.token, 'fence');
    expect(after.status).toBe('OFFLINE');
    expect(summary(after.events)).toEqual(['LWT:ONLINE->OFFLINE', 'MQTT_RECONNECT:ONLINE->ONLINE', 'MQTT_CONNECT:OFFLINE->ONLINE']);
    expect(after.events.map((event) => event.sessionId)).toEqual([s2, s2, s1]);
  });

  test('LWT: a device that drops off Mosquitto goes OFFLINE with reason LWT', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'lwt');
    const topic = buildTopic.status(tenant.tenantId, 'lwt');
    const sessionId = uniqueName('s');
    const device = await deviceClient({ url: app.mqttUrl, will: { topic, payload: Buffer.from(status('offline', sessionId)), qos: 1, retain: false } });
    await publishSettled(app, device, topic, status('online', sessionId));
    expect((await presenceOf(app, tenant.token, 'lwt')).status).toBe('ONLINE');

    device.stream.destroy(); // no DISCONNECT: Mosquitto publishes the will
    // Broker-driven: poll the effect, bounded.
    await vi.waitFor(async () => expect((await presenceOf(app, tenant.token, 'lwt')).status).toBe('OFFLINE'), { timeout: 10_000, interval: 50 });
    const { events } = await presenceOf(app, tenant.token, 'lwt');
    expect(events[0]).toMatchObject({ eventType: 'DISCONNECTED', reason: 'LWT', previousStatus: 'ONLINE', newStatus: 'OFFLINE', sessionId });
  });

  test('messages of unknown or decommissioned devices change nothing and are counted', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'gone');
    await app.gql(tenant.token, `mutation { decommissionDevice(input: { deviceId: "gone" }) { __typename } }`);
    const device = await deviceClient({ url: app.mqttUrl });
    expect(await publishSettled(app, device, buildTopic.status(tenant.tenantId, 'gone'), status('online'))).toEqual({ status: 'rejected', reason: 'UNKNOWN_DEVICE' });
    expect(await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, 'never'), '{}')).toEqual({ status: 'rejected', reason: 'UNKNOWN_DEVICE' });
    const read = await app.gql<{ device: { status: string; connectionEvents: { totalCount: number } } }>(
      tenant.token,
      `{ device(deviceId: "gone") { status connectionEvents { totalCount } } }`,
    );
    expect(read.data?.device).toEqual({ status: 'OFFLINE', connectionEvents: { totalCount: 0 } });
  });
});

describe('evaluator', () => {
  test('several instances evaluating at once log each transition exactly once', async ({ tenant }) => {
    await setTimeouts(app, tenant.token, { staleAfterSeconds: 10, offlineAfterSeconds: 20 });
    const ids = Array.from({ length: 20 }, (_, index) => `fleet-${index}`);
    for (const id of ids) await registerDevice(app, tenant.token, id);
    const device = await deviceClient({ url: app.mqttUrl });
    for (const id of ids) await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, id), '{}');

    // Four evaluators in parallel transactions, as four API instances would run them.
    const now = new Date(Date.now() + 15 * SECOND);
    const defaults = app.config.presence;
    const scope = { tenantId: tenant.tenantId, limit: 3 }; // small batches: each evaluator loops
    await Promise.all(Array.from({ length: 4 }, () => evaluatePresence(app.pulse.app.runner, now, defaults, scope)));
    for (const id of ids) {
      const { status: current, events } = await presenceOf(app, tenant.token, id);
      expect(current).toBe('STALE');
      expect(events.map((event) => event.reason)).toEqual(['STALE', 'HEARTBEAT']);
    }
  });
});
