/**
 * Issue 14, class 7: retained messages never fabricate presence. On Mosquitto a device can still
 * leave a retained message: the server subscribes with Retain Handling 2 (MQTT 5) and the bridge
 * drops anything with RETAIN set (MQTT 3.1.1, or a broker that ignores the option). The embedded
 * broker refuses retained device publishes and retained wills outright.
 */
import mqtt from 'mqtt';
import { createLogger } from '../../src/logger.js';
import { startBridge } from '../../src/mqtt/bridge.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { uniqueName } from '../harness/postgres.js';
import { buildTopic } from '../harness/topics.js';
import { closeClients, deviceClient, keepPresence, presenceOf, publishSettled, registerDevice, startMosquitto, status, type OwnMosquitto } from '../connectivity/support.js';

let mosquitto: OwnMosquitto;
beforeAll(async () => {
  mosquitto = await startMosquitto();
});
afterAll(async () => {
  await closeClients();
  await mosquitto.dispose();
});

describe('on Mosquitto', () => {
  test('a retained online status, long stale, does not bring a device back ONLINE when the server restarts', async ({ tenant }) => {
    const first = await startTestApp({ MQTT_URL: mosquitto.url });
    let second: TestApp | undefined;
    try {
      await keepPresence(first, tenant.token);
      const device = await registerDevice(first, tenant.token, 'ret');
      const marker = await registerDevice(first, tenant.token, 'marker');
      const client = await deviceClient({ url: mosquitto.url });
      const topic = buildTopic.status(tenant.tenantId, 'ret');
      // Live, the retained publish is an ordinary message: the device is online.
      expect(await publishSettled(first, client, topic, status('online'), { retain: true })).toEqual({ status: 'applied' });
      expect(await publishSettled(first, client, topic, status('offline'))).toEqual({ status: 'applied' });
      expect((await presenceOf(first, tenant.token, device.deviceId)).status).toBe('OFFLINE');
      await first.stop();

      // A new instance subscribes afresh: the broker still holds the retained `online`.
      second = await startTestApp({ MQTT_URL: mosquitto.url });
      const app = second;
      expect(await publishSettled(app, client, buildTopic.heartbeat(tenant.tenantId, marker.deviceId), '{}')).toEqual({ status: 'applied' });
      await app.pulse.app.bridge.idle();
      const presence = await presenceOf(app, tenant.token, device.deviceId);
      expect(presence.status).toBe('OFFLINE');
      expect(presence.events.map((event) => event.eventType)).toEqual(['DISCONNECTED', 'CONNECTED']);
      // Clear it (an empty retained message), so later tests on this broker count only their own.
      await client.publishAsync(topic, '', { qos: 1, retain: true });
    } finally {
      await second?.stop();
      await first.stop().catch(() => undefined);
    }
  });

  test('an MQTT 3.1.1 bridge (no Retain Handling) drops the replayed retained message as RETAINED', async ({ tenant }) => {
    const app = await startTestApp({ MQTT_URL: mosquitto.url });
    const service = await mqtt.connectAsync(mosquitto.url, { clientId: uniqueName('bridge311'), protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    try {
      await registerDevice(app, tenant.token, 'ret311');
      const device = await deviceClient({ url: mosquitto.url });
      const topic = buildTopic.status(tenant.tenantId, 'ret311');
      await publishSettled(app, device, topic, status('online'), { retain: true });
      const modules = app.pulse.app;
      const retainedDrops = async () =>
        (await modules.metrics.mqttRejected.get()).values.find((value) => value.labels['kind'] === 'status' && value.labels['reason'] === 'RETAINED')?.value ?? 0;
      const before = await retainedDrops();
      const bridge = await startBridge({
        client: service,
        runner: modules.runner,
        services: modules.services,
        topics: modules.modules.topics,
        metrics: modules.metrics,
        logger: createLogger('silent'),
      });
      // Subscribing replayed the retained message (RETAIN set) ahead of anything published later:
      // once a later message has settled on this bridge, the replay has been handled too.
      const heartbeat = buildTopic.heartbeat(tenant.tenantId, 'ret311');
      const marker = new Promise((resolve) => bridge.onSettled((message) => message.topic === heartbeat && resolve(message.outcome)));
      await device.publishAsync(heartbeat, '{}', { qos: 1 });
      await marker;
      await bridge.idle();
      expect((await retainedDrops()) - before).toBe(1);
      await bridge.stop();
    } finally {
      await service.endAsync(true);
      await app.stop();
    }
  });
});

describe('on the embedded broker', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
  });
  afterAll(() => app.stop());

  test('a retained device publish is refused (the connection closes) and changes nothing', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    const device = await registerDevice(app, tenant.token, 'emb');
    const client = await deviceClient({ url: app.mqttUrl, ...device.credentials, clientId: `${tenant.tenantId}/emb`, protocolVersion: 4 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(buildTopic.status(tenant.tenantId, 'emb'), status('online'), { qos: 1, retain: true });
    await closed;
    // The broker decided before forwarding anything (authorizePublish): nothing reached the server.
    const presence = await presenceOf(app, tenant.token, 'emb');
    expect(presence).toMatchObject({ status: 'OFFLINE', events: [] });
  });

  test('a retained will is refused at CONNECT', async ({ tenant }) => {
    const device = await registerDevice(app, tenant.token, 'will');
    await expect(
      deviceClient({
        url: app.mqttUrl,
        ...device.credentials,
        clientId: `${tenant.tenantId}/will`,
        protocolVersion: 4,
        will: { topic: buildTopic.status(tenant.tenantId, 'will'), payload: Buffer.from(status('offline')), qos: 1, retain: true },
      }),
    ).rejects.toThrow(/Not authorized/i);
  });
});
