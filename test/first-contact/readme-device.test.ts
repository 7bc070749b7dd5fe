/**
 * The README's mqtt.js device (its one ```js block), run as written — only the broker URL is
 * pointed at this test's server — with the password `registerDevice` returned: it comes online,
 * applies a desired change, acks a command, and its will marks it offline when it is killed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { postGraphQL, startEmbeddedDefault, streamOf, wsClient, type EmbeddedDefault } from './support.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are checked field by field */
type Data = any;

// Inside the repository, so that `import mqtt from 'mqtt'` resolves as it does for a reader.
const SCRIPT = fileURLToPath(new URL(`./.readme-device-${process.pid}.mjs`, import.meta.url));
let app: EmbeddedDefault;

beforeAll(async () => {
  app = await startEmbeddedDefault({ DEMO: 'false' });
}, 120_000);
afterAll(async () => {
  await rm(SCRIPT, { force: true });
  await app?.dispose();
});

describe('the README device', () => {
  test('connects with its credentials, applies desired state, acks commands, and leaves its will', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toContain("mqtt.connect('mqtt://localhost:1883'");
    await writeFile(SCRIPT, blocks[0]!.replace('mqtt://localhost:1883', app.pulse.mqttUrl));

    const token = app.pulse.developmentToken!;
    const gql = async (query: string) => {
      const result = await postGraphQL<Data>(app.pulse.url, token, query);
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return result.data;
    };
    const registered = await gql('mutation { registerDevice(input: { deviceId: "gw-17", name: "Gateway 17" }) { ... on RegisterDevicePayload { credentials { password } } } }');
    const client = wsClient(app.pulse.port, token);
    const probe = { pulse: app.pulse } as unknown as TestApp;
    const listening = Promise.all((['deviceConnectivityChanged', 'deviceTwinChanged', 'commandStatusChanged'] as const).map((name) => nextListener(probe, name, 'demo')));
    const presence = streamOf<Data>(client, 'subscription { deviceConnectivityChanged(deviceId: "gw-17") { status reason } }');
    const twin = streamOf<Data>(client, 'subscription { deviceTwinChanged(deviceId: "gw-17") { direction desiredVersion syncStatus } }');
    const commands = streamOf<Data>(client, 'subscription { commandStatusChanged(deviceId: "gw-17") { status } }');
    await listening;

    const device = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env['PATH'] ?? '', PASS: registered.registerDevice.credentials.password }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    device.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await presence.until((event) => event.deviceConnectivityChanged.status === 'ONLINE', `the device online (stderr: ${output})`);
      // Its first report may commit in a later batch than its status: wait for the report itself.
      await twin.until((event) => event.deviceTwinChanged.direction === 'REPORTED', `the first report (stderr: ${output})`);
      expect((await gql('{ device(deviceId: "gw-17") { twin { reported } } }')).device.twin.reported).toEqual({ fw: { version: '2.4.1' } });

      await gql('mutation { updateDeviceTwinDesired(input: { deviceId: "gw-17", expectedVersion: 0, desired: { config: { led: "green" } } }) { __typename } }');
      await twin.until((event) => event.deviceTwinChanged.direction === 'REPORTED' && event.deviceTwinChanged.syncStatus === 'IN_SYNC', 'the desired state applied');

      await gql('mutation { sendCommand(input: { deviceId: "gw-17", commandType: "reboot" }) { __typename } }');
      await commands.until((event) => event.commandStatusChanged.status === 'DELIVERED', 'the ack');

      // Ctrl-C: no DISCONNECT, so the broker publishes the will.
      device.kill('SIGINT');
      await once(device, 'exit');
      expect(await presence.until((event) => event.deviceConnectivityChanged.status === 'OFFLINE', 'the will')).toEqual({ deviceConnectivityChanged: { status: 'OFFLINE', reason: 'LWT' } });
    } finally {
      device.kill('SIGKILL');
      await Promise.all([presence.close(), twin.close(), commands.close()]);
      await client.dispose();
    }
  }, 60_000);
});
