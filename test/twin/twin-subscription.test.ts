import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach } from 'vitest';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';
import { wsClient } from '../harness/ws.js';
import { registerDevice, writeDesired } from './helpers.js';
import { nextListener, nextTwinReport } from './probes.js';

/**
 * This file's app runs the embedded broker (MQTT_URL unset) rather than the shared Mosquitto:
 * there every test app ingests every device's messages, and the app that happens to apply a
 * report is the one whose in-process event bus publishes the REPORTED event. On its own broker,
 * this app applies every report, so the event it publishes is deterministic.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
});
afterAll(() => app.stop());

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const SUBSCRIPTION = /* GraphQL */ `
  subscription Twin($deviceId: String!) {
    deviceTwinChanged(deviceId: $deviceId) {
      deviceId direction desiredVersion reportedVersion occurredAt syncStatus
      twin { desired reported desiredVersion reportedVersion syncStatus lastConvergence { desiredVersion } }
      device { deviceId }
    }
  }
`;

type TwinEvent = {
  deviceId: string;
  direction: 'DESIRED' | 'REPORTED';
  desiredVersion: number;
  reportedVersion: number;
  syncStatus: string | null;
  twin: { desired: unknown; reported: unknown; desiredVersion: number; reportedVersion: number; syncStatus: string; lastConvergence: unknown };
  device: { deviceId: string };
};

/**
 * A live subscription over a real WebSocket; resolves once the server is listening for it. Waits
 * on the event bus itself rather than a round trip on the socket: graphql-ws handles a socket's
 * messages concurrently, so a later message's reply does not prove the subscription is registered.
 */
async function subscribe(token: string, tenantId: string, deviceId: string): Promise<() => Promise<TwinEvent>> {
  const client = wsClient(app.port, token);
  const listening = nextListener(app, 'deviceTwinChanged', tenantId);
  const events = client.iterate<{ deviceTwinChanged: TwinEvent }>({ query: SUBSCRIPTION, variables: { deviceId } });
  closers.push(async () => {
    await events.return?.();
    await client.dispose();
  });
  let pending = events.next();
  await listening;
  return async () => {
    const result = await pending;
    pending = events.next();
    if (result.done) throw new Error('subscription ended');
    expect(result.value.errors).toBeUndefined();
    return result.value.data!.deviceTwinChanged;
  };
}

async function connectDevice(token: string, tenantId: string, deviceId: string): Promise<{ device: MqttClient; prefix: string }> {
  type Registered = { registerDevice: { credentials: { username: string; password: string; topicPrefix: string } } };
  const registered = await app.gql<Registered>(token, REGISTER_DEVICE, { input: { deviceId, name: deviceId } });
  const { username, password, topicPrefix } = registered.data!.registerDevice.credentials;
  const device = await connectAsync(app.pulse.broker!.url, { clientId: `${tenantId}/${deviceId}`, username, password, protocolVersion: 4, reconnectPeriod: 0 });
  closers.push(() => device.endAsync());
  return { device, prefix: topicPrefix };
}

describe('deviceTwinChanged', () => {
  test('emits desired writes and device reports after commit, with the twin read in the subscriber’s scope', async ({ tenant }) => {
    const { device, prefix } = await connectDevice(tenant.token, tenant.tenantId, 'lamp');
    const next = await subscribe(tenant.token, tenant.tenantId, 'lamp');

    await writeDesired(app, tenant.token, { deviceId: 'lamp', desired: { on: true, level: 80 } });
    expect(await next()).toMatchObject({
      deviceId: 'lamp',
      direction: 'DESIRED',
      desiredVersion: 1,
      reportedVersion: 0,
      syncStatus: 'STALE',
      twin: { desired: { on: true, level: 80 }, reported: {}, desiredVersion: 1, lastConvergence: null },
      device: { deviceId: 'lamp' },
    });

    const handled = nextTwinReport(app, tenant.tenantId, 'lamp');
    await device.publishAsync(`${prefix}twin/reported`, JSON.stringify({ state: { on: true, level: 80, watts: 7 } }), { qos: 1 });
    expect(await handled).toEqual({ status: 'applied' });
    expect(await next()).toMatchObject({
      direction: 'REPORTED',
      desiredVersion: 1,
      reportedVersion: 1,
      syncStatus: 'IN_SYNC',
      twin: { reported: { on: true, level: 80, watts: 7 }, reportedVersion: 1, syncStatus: 'IN_SYNC', lastConvergence: { desiredVersion: 1 } },
    });
  });

  test("tenant B's subscription receives nothing of tenant A's, even for the same device ID", async ({ tenant: a, otherTenant: b }) => {
    const { device, prefix } = await connectDevice(a.token, a.tenantId, 'gate');
    await registerDevice(app, b.token, 'gate');
    const nextA = await subscribe(a.token, a.tenantId, 'gate');
    const nextB = await subscribe(b.token, b.tenantId, 'gate');

    await writeDesired(app, a.token, { deviceId: 'gate', desired: { open: false } });
    const handled = nextTwinReport(app, a.tenantId, 'gate');
    await device.publishAsync(`${prefix}twin/reported`, JSON.stringify({ state: { open: true } }), { qos: 1 });
    await handled;
    expect(await nextA()).toMatchObject({ direction: 'DESIRED', twin: { desired: { open: false } } });
    expect(await nextA()).toMatchObject({ direction: 'REPORTED', twin: { reported: { open: true } } });

    // Events are delivered in order: had A's two reached B, they would come before B's own.
    await writeDesired(app, b.token, { deviceId: 'gate', desired: { mine: 'b' } });
    expect(await nextB()).toMatchObject({ direction: 'DESIRED', desiredVersion: 1, twin: { desired: { mine: 'b' } } });
    // And the other way round.
    await writeDesired(app, a.token, { deviceId: 'gate', desired: { open: true } });
    expect(await nextA()).toMatchObject({ direction: 'DESIRED', desiredVersion: 2, twin: { desired: { open: true } } });
  });
});
