import { vi } from 'vitest';
import { buildTopic } from '../harness/topics.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { uniqueName } from '../harness/postgres.js';
import { startMqttProxy, type MqttProxy } from '../connectivity/mqtt-proxy.js';
import {
  closeClients,
  deviceClient,
  keepPresence,
  nextSettled,
  presenceOf,
  publishSettled,
  registerDevice,
  startMosquitto,
  status,
  type OwnMosquitto,
} from '../connectivity/support.js';

/**
 * The bridge against a Mosquitto of its own (so this app is the only consumer and its metrics
 * count exactly this file's traffic), reached through a proxy that can hold or drop its PUBACKs
 * and cut its connection.
 */
let mosquitto: OwnMosquitto;
let proxy: MqttProxy;
let app: TestApp;
beforeAll(async () => {
  mosquitto = await startMosquitto();
  proxy = await startMqttProxy(mosquitto.port);
  app = await startTestApp({ MQTT_URL: proxy.url });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
  await proxy.close();
  await mosquitto.dispose();
});

async function rejectedCounts(target: TestApp): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${target.port}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^pulse_mqtt_rejected_total\{kind="([^"]*)",reason="([^"]*)"\} (\d+)$/gm)) {
    counts.set(`${match[1]}/${match[2]}`, Number(match[3]));
  }
  return counts;
}

function waitForSettled(target: TestApp, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const off = target.pulse.app.bridge.onSettled(() => {
      if (++seen === count) {
        off();
        resolve();
      }
    });
  });
}

describe('garbage in', () => {
  test('1,000 bad messages are counted by reason and the bridge keeps applying good ones', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'target');
    const { tenantId } = tenant;
    const statusTopic = buildTopic.status(tenantId, 'target');
    const heartbeatTopic = buildTopic.heartbeat(tenantId, 'target');
    const bad: Array<[topic: string, payload: string | Buffer, counted: string]> = [
      [statusTopic, '', 'status/NOT_JSON'],
      [statusTopic, 'online', 'status/NOT_JSON'],
      [statusTopic, '{"state":', 'status/NOT_JSON'],
      [statusTopic, '[]', 'status/INVALID'],
      [statusTopic, 'null', 'status/INVALID'],
      [statusTopic, '42', 'status/INVALID'],
      [statusTopic, '{"state":"maybe"}', 'status/INVALID'],
      [statusTopic, '{"state":"online","sessionId":""}', 'status/INVALID'],
      [statusTopic, '{"state":"online","ts":"yesterday"}', 'status/INVALID'],
      [statusTopic, '{"__proto__":{"state":"online"}}', 'status/INVALID'],
      [statusTopic, `${'['.repeat(1_000)}${']'.repeat(1_000)}`, 'status/INVALID'],
      [statusTopic, Buffer.from([0xc3, 0x28, 0xff, 0xfe]), 'status/NOT_UTF8'],
      [heartbeatTopic, '{"uptimeS":-1}', 'heartbeat/INVALID'],
      [heartbeatTopic, '{"ts":1e400}', 'heartbeat/INVALID'],
      [heartbeatTopic, '"heartbeat"', 'heartbeat/INVALID'],
      [heartbeatTopic, '\u0000\u0001', 'heartbeat/NOT_JSON'],
      [buildTopic.heartbeat(tenantId, 'nobody'), '{}', 'heartbeat/UNKNOWN_DEVICE'],
      [`pulse/bad tenant/target/status`, status('online'), 'unknown/INVALID_TENANT_ID'],
      [`pulse/${tenantId}/${'d'.repeat(200)}/heartbeat`, '{}', 'unknown/INVALID_DEVICE_ID'],
      [`pulse/${tenantId}/target/commands/bad id!/ack`, '{}', 'unknown/INVALID_COMMAND_ID'],
    ];
    const large: Array<[string, Buffer, string]> = [[heartbeatTopic, Buffer.alloc(300 * 1024, 0x20), 'heartbeat/TOO_LARGE']];
    const messages = Array.from({ length: 1_000 }, (_, index) => (index % 250 === 0 ? large[0]! : bad[index % bad.length]!));
    const expected = new Map<string, number>();
    for (const [, , counted] of messages) expected.set(counted, (expected.get(counted) ?? 0) + 1);

    const before = await rejectedCounts(app);
    const device = await deviceClient({ url: mosquitto.url });
    const settled = waitForSettled(app, messages.length);
    await Promise.all(messages.map(([topic, payload], index) => device.publishAsync(topic, payload, { qos: index % 2 === 0 ? 1 : 0 })));
    await settled;

    const after = await rejectedCounts(app);
    for (const [key, count] of expected) expect({ key, delta: (after.get(key) ?? 0) - (before.get(key) ?? 0) }).toEqual({ key, delta: count });
    const total = (counts: Map<string, number>) => [...counts.values()].reduce((sum, value) => sum + value, 0);
    expect(total(after) - total(before)).toBe(1_000);

    expect(await publishSettled(app, device, statusTopic, status('online', 'after-garbage'))).toEqual({ status: 'applied' });
    expect(await presenceOf(app, tenant.token, 'target')).toMatchObject({ status: 'ONLINE', events: [{ reason: 'MQTT_CONNECT', sessionId: 'after-garbage' }] });
  });
});

describe('redelivery', () => {
  test('a message published twice, or flagged DUP, is applied once', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'twice');
    const device = await deviceClient({ url: mosquitto.url });
    const topic = buildTopic.status(tenant.tenantId, 'twice');
    for (const state of ['online', 'offline'] as const) {
      await publishSettled(app, device, topic, status(state, 'only'));
      await publishSettled(app, device, topic, status(state, 'only'), { dup: true });
    }
    await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, 'twice'), '{}');
    await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, 'twice'), '{}', { dup: true });
    const { events } = await presenceOf(app, tenant.token, 'twice');
    expect(events.map((event) => event.reason)).toEqual(['HEARTBEAT', 'LWT', 'MQTT_CONNECT']);
  });

  test('a message whose PUBACK was lost is redelivered by the broker (DUP) and still applied once', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'lost-ack');
    const topic = buildTopic.status(tenant.tenantId, 'lost-ack');
    let dropAck: () => void = () => undefined;
    const ackDropped = new Promise<void>((resolve) => {
      dropAck = resolve;
    });
    let dropped = 0;
    proxy.onPuback = ({ topic: acked }) => {
      if (acked !== topic || dropped > 0) return true;
      dropped += 1;
      dropAck();
      return false; // as if the connection died right after the commit, before the PUBACK left
    };
    try {
      const device = await deviceClient({ url: mosquitto.url });
      const twice = nextSettled(app, topic, 2);
      await publishSettled(app, device, topic, status('online', uniqueName('s')));
      await ackDropped;
      proxy.dropConnections(); // the app reconnects to its persistent session; Mosquitto resends
      await twice;
    } finally {
      proxy.onPuback = null;
    }
    expect(proxy.published.filter((seen) => seen.topic === topic).map((seen) => seen.dup)).toEqual([false, true]);
    expect((await presenceOf(app, tenant.token, 'lost-ack')).events).toHaveLength(1);
  });
});

describe('acknowledged only after commit', () => {
  test('when the PUBACK leaves the app, the effect is already visible in the database', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'ordered');
    const device = await deviceClient({ url: mosquitto.url });
    const seenAtAck: string[] = [];
    let allAcked: () => void = () => undefined;
    const acked = new Promise<void>((resolve) => {
      allAcked = resolve;
    });
    proxy.onPuback = async ({ topic }) => {
      const deviceId = topic?.split('/')[2];
      if (topic?.startsWith(`pulse/${tenant.tenantId}/`) && deviceId) {
        // The app's stream waits here: nothing it sends after this PUBACK reaches the broker yet.
        seenAtAck.push((await presenceOf(app, tenant.token, deviceId)).status);
        if (seenAtAck.length === 3) allAcked();
      }
      return true;
    };
    try {
      await publishSettled(app, device, buildTopic.status(tenant.tenantId, 'ordered'), status('online'));
      await publishSettled(app, device, buildTopic.status(tenant.tenantId, 'ordered'), status('offline'));
      await publishSettled(app, device, buildTopic.heartbeat(tenant.tenantId, 'ordered'), '{}');
      await acked;
    } finally {
      proxy.onPuback = null;
    }
    expect(seenAtAck).toEqual(['ONLINE', 'OFFLINE', 'ONLINE']);
  });
});

describe('persistent session and reconnects', () => {
  test('messages published while the app is down are applied by the next start with the same client id', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'while-down');
    const clientId = uniqueName('pulse-restart');
    const first = await startTestApp({ MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: clientId });
    await first.stop();

    const device = await deviceClient({ url: mosquitto.url });
    await device.publishAsync(buildTopic.status(tenant.tenantId, 'while-down'), status('online', 'queued'), { qos: 1 });
    await device.publishAsync(buildTopic.heartbeat(tenant.tenantId, 'while-down'), '{"uptimeS":1}', { qos: 1 });

    const second = await startTestApp({ MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: clientId });
    try {
      // Broker-driven: the backlog arrives right after CONNACK; poll its effect, bounded.
      await vi.waitFor(async () => expect((await presenceOf(second, tenant.token, 'while-down')).lastSeenAt).not.toBeNull(), { timeout: 10_000, interval: 50 });
      await vi.waitFor(async () => {
        const text = await (await fetch(`http://127.0.0.1:${second.port}/metrics`)).text();
        expect(text).toMatch(/pulse_mqtt_messages_total\{kind="heartbeat",outcome="applied"\} 1/);
      });
      expect(await presenceOf(second, tenant.token, 'while-down')).toMatchObject({ status: 'ONLINE', events: [{ reason: 'MQTT_CONNECT', sessionId: 'queued' }] });
    } finally {
      await second.stop();
    }
  });

  test('after the broker restarts, the app reconnects by itself and ingestion resumes', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'after-restart');
    const own = await startMosquitto();
    const restarted = await startTestApp({ MQTT_URL: own.url });
    try {
      const pid = own.pid();
      await own.stop(); // SIGTERM to that PID: the app's connection drops
      await own.start();
      expect(own.pid()).not.toBe(pid);
      const ready = async () => (await fetch(`http://127.0.0.1:${restarted.port}/ready`)).json() as Promise<{ broker: string }>;
      await vi.waitFor(async () => expect(await ready()).toMatchObject({ broker: 'ok' }), { timeout: 15_000, interval: 100 });

      // The restarted broker lost the session (in-memory); the app subscribes again once it is
      // back. Until its SUBACK, a device's message would find no subscriber: resend until applied.
      const device = await deviceClient({ url: own.url });
      await vi.waitFor(
        async () => {
          await device.publishAsync(buildTopic.heartbeat(tenant.tenantId, 'after-restart'), '{}', { qos: 1 });
          await restarted.pulse.app.bridge.idle();
          expect((await presenceOf(restarted, tenant.token, 'after-restart')).status).toBe('ONLINE');
        },
        { timeout: 15_000, interval: 100 },
      );
    } finally {
      await restarted.stop();
      await own.dispose();
    }
  });
});
