import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  dummyVerify,
  generateDeviceCredentials,
  hashDevicePassword,
  verifyDevicePassword,
  type DeviceCredentials,
} from '../../src/auth/device-credentials.js';
import { startEmbeddedBroker, type DeviceIdentity, type EmbeddedBroker } from '../../src/mqtt/broker.js';
import { buildTopic, topics } from '../harness/topics.js';
import { offlineStatusWill as deviceWill } from '../../src/modules/connectivity/mqtt.js';

const logger = pino({ level: 'silent' });
const SERVICE = { username: 'pulse-service', password: 'service-secret-for-tests' };

/** The credential store a real deployment keeps in PostgreSQL: username → identity + scrypt hash. */
const store = new Map<string, DeviceIdentity & { hash: string }>();
async function authenticateDevice(username: string, password: Buffer): Promise<DeviceIdentity | null> {
  if (username === 'boom/boom') throw new Error('credential store unavailable');
  const entry = store.get(username);
  if (entry === undefined) return dummyVerify(password).then(() => null);
  return (await verifyDevicePassword(password, entry.hash)) ? { tenantId: entry.tenantId, deviceId: entry.deviceId } : null;
}
async function provision(tenantId: string, deviceId: string): Promise<DeviceCredentials> {
  const credentials = generateDeviceCredentials(tenantId, deviceId);
  store.set(credentials.username, { tenantId, deviceId, hash: await hashDevicePassword(credentials.password) });
  return credentials;
}

let broker: EmbeddedBroker;
let devA: DeviceCredentials; // t1/dev-a
let devB: DeviceCredentials; // t1/dev-b
let otherTenant: DeviceCredentials; // t2/dev-a
const clients: MqttClient[] = [];

async function connect(username: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync(broker.url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    clientId: username,
    username,
    password,
    ...extra,
  });
  clients.push(client);
  return client;
}
const connectDevice = (credentials: DeviceCredentials, extra: IClientOptions = {}) =>
  connect(credentials.username, credentials.password, extra);
const connectService = () => connect(SERVICE.username, SERVICE.password, { clientId: `svc-${clients.length}` });

/** Resolves with the first message on `topic` (messages on other topics are ignored). */
function nextMessage(client: MqttClient, topic: string): Promise<{ payload: string; retain: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (received: string, payload: Buffer, packet: { retain: boolean }) => {
      if (received !== topic) return;
      client.off('message', onMessage);
      resolve({ payload: payload.toString(), retain: packet.retain });
    };
    client.on('message', onMessage);
  });
}

const telemetry = JSON.stringify({ metrics: { temp: 21.5 } });

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger, authenticateDevice, serviceCredentials: SERVICE, topics, deviceWill });
  [devA, devB, otherTenant] = await Promise.all([provision('t1', 'dev-a'), provision('t1', 'dev-b'), provision('t2', 'dev-a')]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
});

afterAll(async () => {
  await broker.close();
});

describe('embedded broker: authentication', () => {
  it('listens on the port the OS chose', () => {
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
  });

  it.each([
    ['a bad device password', () => ({ username: devA.username, password: 'wrong' })],
    ['an unknown user', () => ({ username: 't9/ghost', password: devA.password })],
    ['a bad service password', () => ({ username: SERVICE.username, password: devA.password })],
    ['a device password for another device', () => ({ username: devB.username, password: devA.password })],
  ])('refuses %s with CONNACK 4', async (_label, credentials) => {
    const { username, password } = credentials();
    await expect(connect(username, password)).rejects.toMatchObject({ code: 4 });
  });

  it('refuses a connection without credentials', async () => {
    await expect(connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toMatchObject({ code: 4 });
  });

  it('refuses with CONNACK 3 when the authenticator throws, and keeps serving', async () => {
    await expect(connect('boom/boom', 'x')).rejects.toMatchObject({ code: 3 });
    const client = await connectDevice(devA);
    expect(client.connected).toBe(true);
  });

  it("refuses a device using a client ID outside its namespace (another principal's session)", async () => {
    await expect(connectDevice(devA, { clientId: devB.username })).rejects.toMatchObject({ code: 2 });
    await expect(connectDevice(devA, { clientId: 'svc-0' })).rejects.toMatchObject({ code: 2 });
    const suffixed = await connectDevice(devA, { clientId: `${devA.username}/sim` });
    expect(suffixed.connected).toBe(true);
  });

  it.each([
    ['another device status topic', () => buildTopic.status('t1', 'dev-b'), '{"state":"offline"}'],
    ['its own telemetry topic', () => buildTopic.telemetry('t1', 'dev-a'), '{"state":"offline"}'],
    ['a payload that is not an offline status', () => buildTopic.status('t1', 'dev-a'), '{"state":"online"}'],
    ['a payload that is not JSON', () => buildTopic.status('t1', 'dev-a'), 'bye'],
  ])('refuses a device whose will is on %s (CONNACK 5)', async (_label, topic, payload) => {
    await expect(connectDevice(devA, { will: { topic: topic(), payload: Buffer.from(payload), qos: 1, retain: false } })).rejects.toMatchObject({
      code: 5,
    });
  });

  it('publishes an accepted will to the service when the device drops', async () => {
    const service = await connectService();
    await service.subscribeAsync(buildTopic.status('t1', 'dev-a'), { qos: 1 });
    const will = nextMessage(service, buildTopic.status('t1', 'dev-a'));
    const device = await connectDevice(devA, {
      will: { topic: buildTopic.status('t1', 'dev-a'), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: false },
    });
    device.stream.destroy(); // an unclean drop, no DISCONNECT: the broker must publish the will
    await expect(will).resolves.toMatchObject({ payload: '{"state":"offline"}' });
  });
});

describe('embedded broker: device publish rules', () => {
  it('delivers a device telemetry publish to a service subscriber', async () => {
    const service = await connectService();
    await service.subscribeAsync('pulse/+/+/telemetry', { qos: 1 });
    const received = nextMessage(service, buildTopic.telemetry('t1', 'dev-a'));
    const device = await connectDevice(devA);
    await device.publishAsync(buildTopic.telemetry('t1', 'dev-a'), telemetry, { qos: 1 });
    await expect(received).resolves.toMatchObject({ payload: telemetry });
  });

  it.each([
    ['another device of its tenant', () => buildTopic.telemetry('t1', 'dev-b')],
    ['the same device ID in another tenant', () => buildTopic.telemetry('t2', 'dev-a')],
    ['its own twin/desired (server → device)', () => buildTopic.twinDesired('t1', 'dev-a')],
    ['its own command topic (server → device)', () => buildTopic.command('t1', 'dev-a', 'c1')],
    ['$SYS', () => '$SYS/broker/fake'],
  ])('drops the connection and the message when a device publishes to %s', async (_label, topic) => {
    const service = await connectService();
    await service.subscribeAsync('pulse/#', { qos: 1 });
    const seen: string[] = [];
    // Retained messages left by other tests are replayed on subscribe; only live traffic counts.
    service.on('message', (received, _payload, packet) => {
      if (!packet.retain) seen.push(received);
    });

    const device = await connectDevice(devA);
    // [MQTT-3.3.5-2]: no NAK exists in 3.1.1, so the broker closes the connection instead of a PUBACK.
    const outcome = await new Promise<'closed' | 'acknowledged'>((resolve) => {
      device.once('close', () => resolve('closed'));
      device.publish(topic(), telemetry, { qos: 1 }, (error) => {
        if (!error) resolve('acknowledged');
      });
    });
    expect(outcome).toBe('closed');

    // Bounded round trip: a sentinel published after the forbidden message must be the only arrival.
    const sentinel = nextMessage(service, buildTopic.telemetry('t1', 'dev-a'));
    const again = await connectDevice(devA);
    await again.publishAsync(buildTopic.telemetry('t1', 'dev-a'), '{"metrics":{"sentinel":1}}', { qos: 1 });
    await sentinel;
    expect(seen).toEqual([buildTopic.telemetry('t1', 'dev-a')]);
  });
});

describe('embedded broker: subscribe rules', () => {
  it.each(['pulse/#', '#', 'pulse/+/dev-a/twin/desired', 'pulse/t1/+/commands/#', 'pulse/t1/dev-b/commands/#', 'pulse/t2/dev-a/twin/desired', 'pulse/t1/dev-a/#'])(
    'grants 128 (subscribeAsync rejects) when a device subscribes to %s',
    async (filter) => {
      const device = await connectDevice(devA);
      await expect(device.subscribeAsync(filter, { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } });
      expect(device.connected).toBe(true); // a refused subscription is not a protocol violation
    },
  );

  it('lets a device subscribe to its own twin/desired and commands', async () => {
    const device = await connectDevice(devA);
    const granted = await device.subscribeAsync(['pulse/t1/dev-a/twin/desired', 'pulse/t1/dev-a/commands/+'], { qos: 1 });
    expect(granted.map((grant) => grant.qos)).toEqual([1, 1]);
  });

  it('delivers a retained twin/desired published by the service to the device', async () => {
    const service = await connectService();
    const desired = JSON.stringify({ state: { led: 'on' }, version: 7 });
    await service.publishAsync(buildTopic.twinDesired('t1', 'dev-a'), desired, { qos: 1, retain: true });
    const device = await connectDevice(devA);
    const received = nextMessage(device, buildTopic.twinDesired('t1', 'dev-a'));
    await device.subscribeAsync(buildTopic.twinDesired('t1', 'dev-a'), { qos: 1 });
    await expect(received).resolves.toEqual({ payload: desired, retain: true });
  });

  it('delivers a command only to the device it addresses', async () => {
    const [a, other] = await Promise.all([connectDevice(devA), connectDevice(otherTenant)]);
    await Promise.all([a.subscribeAsync('pulse/t1/dev-a/commands/#', { qos: 1 }), other.subscribeAsync('pulse/t2/dev-a/commands/#', { qos: 1 })]);
    const seenByOther: string[] = [];
    other.on('message', (topic) => seenByOther.push(topic));
    const service = await connectService();
    const received = nextMessage(a, buildTopic.command('t1', 'dev-a', 'cmd-1'));
    await service.publishAsync(buildTopic.command('t1', 'dev-a', 'cmd-1'), '{"type":"reboot"}', { qos: 1 });
    await received;
    const sentinel = nextMessage(other, buildTopic.command('t2', 'dev-a', 'cmd-2'));
    await service.publishAsync(buildTopic.command('t2', 'dev-a', 'cmd-2'), '{"type":"noop"}', { qos: 1 });
    await sentinel;
    expect(seenByOther).toEqual([buildTopic.command('t2', 'dev-a', 'cmd-2')]);
  });

  it('lets the service subscribe to pulse/+/+/telemetry but not to $share, # or $SYS', async () => {
    const service = await connectService();
    const granted = await service.subscribeAsync('pulse/+/+/telemetry', { qos: 1 });
    expect(granted.map((grant) => grant.qos)).toEqual([1]);
    for (const filter of ['$share/ingest/pulse/+/+/telemetry', '#', '$SYS/#']) {
      await expect(service.subscribeAsync(filter, { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } });
    }
  });
});

describe('embedded broker: shutdown', () => {
  it('closes quickly with connected clients and half-open sockets', async () => {
    const own = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger, authenticateDevice, serviceCredentials: SERVICE, topics, deviceWill });
    const device = await connectAsync(own.url, { protocolVersion: 4, reconnectPeriod: 0, clientId: devA.username, username: devA.username, password: devA.password });
    const raw = tcpConnect(own.port, '127.0.0.1'); // never sends CONNECT
    await once(raw, 'connect');
    const deviceClosed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const rawClosed = once(raw, 'close');
    const started = Date.now();
    await own.close();
    await Promise.all([deviceClosed, rawClosed]);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(own.close()).resolves.toBeUndefined(); // idempotent
    await device.endAsync(true);
  });

  it('rejects when the port is taken', async () => {
    await expect(
      startEmbeddedBroker({ port: broker.port, host: '127.0.0.1', logger, authenticateDevice, serviceCredentials: SERVICE, topics, deviceWill }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
