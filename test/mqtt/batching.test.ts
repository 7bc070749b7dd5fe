import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { uniqueName, withAdmin } from '../harness/postgres.js';
import { buildTopic } from '../harness/topics.js';
import { inject } from 'vitest';
import { startMqttProxy, type MqttProxy } from '../connectivity/mqtt-proxy.js';
import { closeClients, deviceClient, keepPresence, presenceOf, registerDevice, startMosquitto, status, type OwnMosquitto } from '../connectivity/support.js';
import { startBridge, type Bridge, type SettledMessage } from '../../src/mqtt/bridge.js';
import { connectServiceClient } from '../../src/mqtt/service-client.js';
import { createTopicTable } from '../../src/mqtt/topics.js';
import type { AnyInboundTopic, InboundMessage, InboundTopic } from '../../src/mqtt/ingest.js';
import { heartbeatTopic, statusTopic } from '../../src/modules/connectivity/mqtt.js';
import { createLogger } from '../../src/logger.js';

/**
 * The bridge's batching seen from outside: a bridge of its own (one lane, the app's runner and
 * services) on a Mosquitto of its own, behind a proxy that sees its PUBACKs. Each test queues its
 * messages for the bridge's persistent session while the bridge is away, so that they arrive in
 * one burst and make one batch, as a backlog does after a restart.
 */
let app: TestApp;
let mosquitto: OwnMosquitto;
let proxy: MqttProxy;
beforeAll(async () => {
  app = await startTestApp();
  mosquitto = await startMosquitto();
  proxy = await startMqttProxy(mosquitto.port);
});
afterAll(async () => {
  await closeClients();
  await proxy.close();
  await mosquitto.dispose();
  await app.stop();
});

interface Calls {
  status: string[];
  heartbeatRuns: string[][];
}

/** The connectivity topics, wrapped to record their calls; `poison` sessions make the status handler throw. */
function recordingTopics(calls: Calls): AnyInboundTopic[] {
  const record = (message: InboundMessage<'status'>) => {
    calls.status.push(`${message.deviceId}:${message.payload.sessionId}`);
    if (message.payload.sessionId?.startsWith('poison')) throw new Error('a handler bug');
  };
  const status: InboundTopic<'status'> = {
    ...statusTopic,
    async handle(session, message, services) {
      record(message);
      return statusTopic.handle(session, message, services);
    },
    async handleMany(session, messages, services) {
      messages.forEach(record);
      return statusTopic.handleMany!(session, messages, services);
    },
  };
  const heartbeat: InboundTopic<'heartbeat'> = {
    ...heartbeatTopic,
    async handleMany(session, messages, services) {
      calls.heartbeatRuns.push(messages.map((message) => message.deviceId));
      return heartbeatTopic.handleMany!(session, messages, services);
    },
  };
  return [status, heartbeat];
}

/**
 * Queues `publish`'s messages for a new persistent session, then starts a one-lane bridge on it and
 * waits until it has settled `count` of them (and `before` the bridge stops, when given).
 * Returns what it settled, in order.
 */
async function burstIntoBridge(
  calls: Calls,
  count: number,
  publish: (device: mqtt.MqttClient) => Promise<void>,
  before?: Promise<void>,
): Promise<SettledMessage[]> {
  const topics = createTopicTable(recordingTopics(calls), []);
  const clientId = uniqueName('pulse-batching');
  const session = await mqtt.connectAsync(mosquitto.url, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 } });
  await session.subscribeAsync(topics.ingestSubscriptions(), { qos: 1 });
  await session.endAsync();
  await publish(await deviceClient({ url: mosquitto.url }));

  const logger = createLogger('silent');
  const client = await connectServiceClient({ url: proxy.url, clientId, protocolVersion: 5 }, logger);
  const settled: SettledMessage[] = [];
  let bridge: Bridge | undefined;
  try {
    const done = new Promise<void>((resolve) => {
      const { runner, services, metrics } = app.pulse.app;
      void startBridge({ client, runner, services, metrics, logger, topics, lanes: 1 }).then((started) => {
        bridge = started;
        started.onSettled((message) => {
          if (settled.push(message) === count) resolve();
        });
      });
    });
    await done;
    await bridge!.idle();
    await before;
  } finally {
    await bridge?.stop();
    await client.endAsync();
  }
  return settled;
}

async function eventsOfSession(tenantId: string, sessionId: string): Promise<number> {
  const { rows } = await withAdmin(
    (client) => client.query<{ n: number }>('SELECT count(*)::int AS n FROM device_connection_events WHERE tenant_id = $1 AND session_id = $2', [tenantId, sessionId]),
    inject('database').name,
  );
  return rows[0]!.n;
}

describe('a batch regrouped by kind', () => {
  test("each device's messages apply in its order; the heartbeats of all devices go in one call per run", async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    for (const deviceId of ['ord-a', 'ord-b']) await registerDevice(app, tenant.token, deviceId);
    const calls: Calls = { status: [], heartbeatRuns: [] };
    // On the wire, per device: online s1, heartbeat, offline s1, heartbeat, online s2 — interleaved.
    const sequence = (deviceId: string) => [
      [buildTopic.status(tenant.tenantId, deviceId), status('online', `${deviceId}-s1`)],
      [buildTopic.heartbeat(tenant.tenantId, deviceId), '{}'],
      [buildTopic.status(tenant.tenantId, deviceId), status('offline', `${deviceId}-s1`)],
      [buildTopic.heartbeat(tenant.tenantId, deviceId), '{}'],
      [buildTopic.status(tenant.tenantId, deviceId), status('online', `${deviceId}-s2`)],
    ];
    const a = sequence('ord-a');
    const b = sequence('ord-b');
    const wire = a.flatMap((message, index) => [message, b[index]!]);
    const settled = await burstIntoBridge(calls, wire.length, async (device) => {
      for (const [topic, payload] of wire) await device.publishAsync(topic!, payload!, { qos: 1 });
    });

    expect(settled.map((message) => message.outcome.status)).toEqual(wire.map(() => 'applied'));
    // Both devices' heartbeats of a run in one call (on the wire they alternate with statuses).
    expect(calls.heartbeatRuns).toEqual([
      ['ord-a', 'ord-b'],
      ['ord-a', 'ord-b'],
    ]);
    for (const deviceId of ['ord-a', 'ord-b']) {
      const presence = await presenceOf(app, tenant.token, deviceId);
      expect(presence.status).toBe('ONLINE');
      // Newest first: what sequential application of this device's messages logs.
      expect(presence.events.map((event) => `${event.reason}:${event.sessionId}`)).toEqual([
        `MQTT_RECONNECT:${deviceId}-s2`,
        `HEARTBEAT:${deviceId}-s1`,
        `LWT:${deviceId}-s1`,
        `MQTT_CONNECT:${deviceId}-s1`,
      ]);
    }
  });
});

describe('acknowledged only after commit, with a batch that fails', () => {
  test('the batch is rolled back and applied message by message; each PUBACK leaves after its own commit', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    const devices = ['fail-a', 'fail-b', 'fail-c', 'fail-d'];
    for (const deviceId of devices) await registerDevice(app, tenant.token, deviceId);
    const calls: Calls = { status: [], heartbeatRuns: [] };
    // fail-c's status makes its handler throw: the whole batch's transaction fails.
    const sessionOf = (deviceId: string) => (deviceId === 'fail-c' ? uniqueName('poison') : uniqueName(deviceId));
    const sessions = new Map(devices.map((deviceId) => [deviceId, sessionOf(deviceId)]));
    const visibleAtPuback = new Map<string, number>();
    let allAcked: () => void = () => undefined;
    const acked = new Promise<void>((resolve) => {
      allAcked = resolve;
    });
    proxy.onPuback = async ({ topic }) => {
      const deviceId = topic?.split('/')[2];
      const sessionId = deviceId && sessions.get(deviceId);
      // The app's stream waits here: the PUBACK has left the app, the broker has not seen it yet.
      if (sessionId && topic?.startsWith(`pulse/${tenant.tenantId}/`)) {
        visibleAtPuback.set(deviceId, await eventsOfSession(tenant.tenantId, sessionId));
        if (visibleAtPuback.size === devices.length) allAcked();
      }
      return true;
    };
    let settled: SettledMessage[];
    try {
      settled = await burstIntoBridge(
        calls,
        devices.length,
        async (device) => {
          for (const deviceId of devices) await device.publishAsync(buildTopic.status(tenant.tenantId, deviceId), status('online', sessions.get(deviceId)), { qos: 1 });
        },
        acked,
      );
    } finally {
      proxy.onPuback = null;
    }

    // Tried in the batch (one statement for all four), then each alone.
    expect(calls.status.filter((call) => call.startsWith('fail-a:'))).toHaveLength(2);
    expect(Object.fromEntries(settled.map((message) => [message.topic.split('/')[2], message.outcome.status]))).toEqual({
      'fail-a': 'applied',
      'fail-b': 'applied',
      'fail-c': 'failed',
      'fail-d': 'applied',
    });
    // Every message was acknowledged, and each applied one only once its effect was committed;
    // the failed one is acknowledged with nothing stored (a redelivery would fail the same way).
    expect(Object.fromEntries(visibleAtPuback)).toEqual({ 'fail-a': 1, 'fail-b': 1, 'fail-c': 0, 'fail-d': 1 });
  });
});
