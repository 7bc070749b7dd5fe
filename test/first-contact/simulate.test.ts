/**
 * `npm run simulate` against real infrastructure (PostgreSQL and Mosquitto through the harness):
 * it registers devices through the API, connects each with its own credentials and plays the
 * device protocol (status, heartbeats, telemetry, twin reports that apply desired state, command
 * acks, access-point polls); Ctrl-C disconnects every device cleanly; a second run reuses them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { createScratchDatabase, dropScratchDatabase, grantAppRole, type ScratchDatabase } from '../harness/postgres.js';
import { streamOf, wsClient } from './support.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are checked field by field */
type Data = any;

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// The command dispatcher works across tenants: on the run's shared database another file's app
// could hand this file's commands to its own broker. A database of its own avoids that.
let database: ScratchDatabase;
let app: TestApp;

beforeAll(async () => {
  database = await createScratchDatabase('pulse_sim');
  await grantAppRole(database);
  app = await startTestApp({ DATABASE_URL: database.appUrl, MIGRATION_DATABASE_URL: database.ownerUrl });
}, 120_000);
afterAll(async () => {
  await app?.stop();
  if (database) await dropScratchDatabase(database);
});

function simulate(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/simulate.ts', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: once(child, 'exit').then(([code]) => code as number | null) };
}

describe('npm run simulate', () => {
  test('plays a fleet against PostgreSQL and Mosquitto, stops cleanly on Ctrl-C, and reuses the devices on the next run', async ({ tenant }) => {
    // DATABASE_URL is set: the demo fleet never runs unless asked.
    expect(app.pulse.demo).toBeUndefined();
    const gql = async (query: string, variables?: Record<string, unknown>) => {
      const result = await app.gql<Data>(tenant.token, query, variables);
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return result.data;
    };
    const client = wsClient(app.port, tenant.token);
    const listening = Promise.all(
      (['deviceConnectivityChanged', 'commandStatusChanged', 'deviceTwinChanged'] as const).map((name) => nextListener(app, name, tenant.tenantId)),
    );
    const presence = streamOf<Data>(client, 'subscription { deviceConnectivityChanged { deviceId status } }');
    const commands = streamOf<Data>(client, 'subscription { commandStatusChanged { commandId status } }');
    const twins = streamOf<Data>(client, 'subscription { deviceTwinChanged(deviceId: "sim-0002") { direction desiredVersion syncStatus } }');
    await listening;
    const fleet = ['sim-ap-1', 'sim-0001', 'sim-0002', 'sim-0003', 'sim-0004'];
    const args = ['--tenant', tenant.tenantId, '--devices', '4', '--aps', '1', '--rate', '4', '--heartbeat', '5', '--url', `http://127.0.0.1:${app.port}/graphql`, '--mqtt', app.mqttUrl, '--token', tenant.token];
    const allIn = (status: string, after = 0) => (event: Data) =>
      fleet.every((deviceId) => presence.events.slice(after).some((seen) => seen.deviceConnectivityChanged.deviceId === deviceId && seen.deviceConnectivityChanged.status === status)) &&
      event.deviceConnectivityChanged.status === status;

    try {
      const run = simulate(args);
      await presence.until(allIn('ONLINE'), 'every simulated device online', 60_000);

      // Commands are acked, one type refused.
      const sent = await gql(`mutation { a: sendCommand(input: { deviceId: "sim-0001", commandType: "reboot" }) { ... on SendCommandPayload { command { commandId } } }
                                         b: sendCommand(input: { deviceId: "sim-0001", commandType: "factoryReset" }) { ... on SendCommandPayload { command { commandId } } } }`);
      const [reboot, reset] = [sent.a.command.commandId, sent.b.command.commandId];
      await commands.until((event) => event.commandStatusChanged.commandId === reboot && event.commandStatusChanged.status === 'DELIVERED', 'the reboot ack');
      await commands.until((event) => event.commandStatusChanged.commandId === reset && event.commandStatusChanged.status === 'FAILED', 'the refused command');

      // A desired change is applied and reported back.
      await gql('mutation { updateDeviceTwinDesired(input: { deviceId: "sim-0002", expectedVersion: 0, desired: { sampleSeconds: 5 } }) { __typename } }');
      await twins.until((event) => event.deviceTwinChanged.direction === 'REPORTED' && event.deviceTwinChanged.desiredVersion === 1 && event.deviceTwinChanged.syncStatus === 'IN_SYNC', 'the device converging');

      // The access point's first poll (at its session start) made the links; telemetry is stored.
      const state = await gql('{ wirelessLinks(first: 10) { edges { node { apDeviceId cpeDeviceId } } } device(deviceId: "sim-0003") { telemetry { latest { metric } } } }');
      expect(state.wirelessLinks.edges.map((edge: Data) => edge.node.cpeDeviceId).sort()).toEqual(['sim-0001', 'sim-0002', 'sim-0003', 'sim-0004']);
      await expect
        .poll(async () => (await gql('{ device(deviceId: "sim-0003") { telemetry { latest { metric } } } }')).device.telemetry.latest.map((value: Data) => value.metric).sort(), { timeout: 20_000 })
        .toEqual(['humidity', 'rssi', 'temperature', 'uptime']);

      const offlineFrom = presence.events.length;
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
      expect(run.output()).toMatch(/Done after \d+ s: sent \d+, received \d+, acks 2, errors 0\./);
      // Each device said offline before disconnecting.
      await presence.until(allIn('OFFLINE', offlineFrom), 'every simulated device offline');

      // A second run finds them registered and gives them new credentials.
      const onlineFrom = presence.events.length;
      const again = simulate([...args, '--duration', '3']);
      await presence.until(allIn('ONLINE', onlineFrom), 'every device online again', 60_000);
      expect(await again.exited).toBe(0);
      expect(again.output()).toContain('errors 0.');
      expect((await gql('{ devices { totalCount } }')).devices.totalCount).toBe(fleet.length);
    } finally {
      await Promise.all([presence.close(), commands.close(), twins.close()]);
      await client.dispose();
    }
  }, 180_000);

  test('Ctrl-C while the fleet is still connecting stops the rest, disconnects those connected, and exits cleanly', async ({ tenant }) => {
    const run = simulate(['--tenant', tenant.tenantId, '--devices', '60', '--rate', '1', '--url', `http://127.0.0.1:${app.port}/graphql`, '--mqtt', app.mqttUrl, '--token', tenant.token]);
    await new Promise<void>((resolve) => {
      const check = () => run.output().includes('Connecting them') && (run.child.stdout!.off('data', check), resolve());
      run.child.stdout!.on('data', check);
      check();
    });
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/Interrupted: disconnecting \d+ devices …/);
    expect(run.output()).toMatch(/Done after \d+ s: /);
    // Every device that connected said offline before it left.
    await expect
      .poll(async () => (await app.gql<Data>(tenant.token, '{ devices(filter: { status: [ONLINE, STALE] }) { totalCount } }')).data!.devices.totalCount, { timeout: 20_000 })
      .toBe(0);
  }, 120_000);

  test('refuses bad arguments with its usage', async () => {
    const run = simulate(['--devices', 'many']);
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('--devices must be a number');
    expect(run.output()).toContain('usage: npm run simulate');
  }, 30_000);
});
