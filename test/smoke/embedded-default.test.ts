import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, test } from 'vitest';
import { loadPulseConfig } from '../../src/server.js';
import { createLogger } from '../../src/logger.js';
import { startPulse, type RunningPulse } from '../../src/server.js';
import { operation, type MqttCredentials, type TypedOperation } from '../harness/operations.js';

/**
 * The newcomer's path on the embedded default: no DATABASE_URL (PGlite in DATA_DIR), no MQTT_URL
 * (embedded Aedes), no JWT_SECRET (development secret, token printed and prefilled in GraphiQL).
 */
describe('embedded default (PGlite + Aedes)', () => {
  let dataDir: string;
  let pulse: RunningPulse | undefined;

  afterAll(async () => {
    await pulse?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    const config = loadPulseConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MQTT_PORT: '0', LOG_LEVEL: 'silent', DEMO: 'false' });
    return startPulse(config, createLogger('silent'));
  };

  async function graphql<T = Record<string, never>>(url: string, token: string, query: TypedOperation<T> | string, variables?: Record<string, unknown>) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: T; errors?: unknown[] };
  }

  const REGISTER_SENSOR = operation<{ registerDevice: { device: { deviceId: string; status: string }; credentials: MqttCredentials } }>(
    `mutation { registerDevice(input: { deviceId: "sensor-1", name: "Sensor 1", tags: [{ key: "room", value: "lab" }] }) {
        ... on RegisterDevicePayload { device { deviceId status } credentials { username password topicPrefix } } } }`,
  );

  test('registers and lists a device, serves GraphiQL offline, lets the device in over MQTT, and survives a restart', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'pulse-embedded-'));
    pulse = await start();
    expect(pulse.database.kind).toBe('pglite');
    expect(pulse.migrations.applied.length).toBeGreaterThan(0);
    const token = pulse.developmentToken!;
    expect(token).toBeTruthy();

    const registered = await graphql(pulse.url, token, REGISTER_SENSOR);
    const payload = registered.data!.registerDevice;
    expect(payload.device.deviceId).toBe('sensor-1');
    expect(payload.credentials.topicPrefix).toBe('pulse/demo/sensor-1/');

    const listed = await graphql(pulse.url, token, '{ devices { totalCount edges { node { deviceId tags { key value } } } } }');
    expect(listed.data?.['devices']).toEqual({ totalCount: 1, edges: [{ node: { deviceId: 'sensor-1', tags: [{ key: 'room', value: 'lab' }] } }] });

    const page = await fetch(pulse.url, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('GraphiQL');
    expect(html).not.toMatch(/<script[^>]+src="https?:\/\//);
    expect(html).toContain(token);

    // The device logs in to the embedded broker with the credentials it was given, once.
    const device = await mqtt.connectAsync(pulse.broker!.url, {
      clientId: 'demo/sensor-1',
      username: payload.credentials.username,
      password: payload.credentials.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await device.publishAsync(`${payload.credentials.topicPrefix}heartbeat`, JSON.stringify({ uptimeS: 5 }), { qos: 1 });
    await expect(device.subscribeAsync('pulse/#')).rejects.toThrow();
    await device.endAsync();
    await expect(
      mqtt.connectAsync(pulse.broker!.url, { clientId: 'demo/sensor-1', username: payload.credentials.username, password: 'wrong', protocolVersion: 4, reconnectPeriod: 0 }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);

    await pulse.stop();
    pulse = await start();
    expect(pulse.migrations.applied).toEqual([]);
    const again = await graphql(pulse.url, pulse.developmentToken!, '{ device(deviceId: "sensor-1") { name } }');
    expect(again.data?.['device']).toEqual({ name: 'Sensor 1' });
  }, 120_000);
});
