/**
 * The demo fleet of the embedded default: seeded once through the API on an empty tenant `demo`,
 * live at once (simulated devices over MQTT), not seeded again on a restart, wiped and seeded
 * again with DEMO=reset, absent with DEMO=false or a real database.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { demoWanted } from '../../src/modules/demo/demo.js';
import { DEMO_DEVICES, DEMO_SITES, FLAKY_DEVICE } from '../../src/modules/demo/fleet-plan.js';
import type { TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { postGraphQL, startEmbeddedDefault, streamOf, wsClient, type EmbeddedDefault } from './support.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are checked field by field */
type Data = any;

let app: EmbeddedDefault;
const gql = (query: string, variables?: Record<string, unknown>) =>
  postGraphQL<Data>(app.pulse.url, app.pulse.developmentToken!, query, { variables }).then((result) => {
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  });

// The embedded default as `npm start` runs it: tests run with NODE_ENV=test, where DEMO=auto is off.
const DEMO_ON = { DEMO: 'true' };

beforeAll(async () => {
  app = await startEmbeddedDefault(DEMO_ON);
}, 180_000);
afterAll(() => app?.dispose());

describe('the demo fleet', () => {
  test('is live at once: a subscription opened when the server is ready sees devices converging', async () => {
    const client = wsClient(app.pulse.port, app.pulse.developmentToken!);
    try {
      const listening = nextListener({ pulse: app.pulse } as unknown as TestApp, 'deviceTwinChanged', 'demo');
      const changes = streamOf<Data>(client, 'subscription { deviceTwinChanged { deviceId direction syncStatus } }');
      await listening;
      // Devices apply their desired state a few seconds after connecting (gw-hq-02 last, after 12 s).
      // Or, on a slow machine where they all converged already, the demo operator's next write (every 30 s).
      const converged = await changes.until((event) => event.deviceTwinChanged.direction === 'REPORTED' && event.deviceTwinChanged.syncStatus === 'IN_SYNC', 'a device converging', 50_000);
      expect(DEMO_DEVICES.map((device) => device.spec.deviceId)).toContain(converged.deviceTwinChanged.deviceId);
      await changes.close();
    } finally {
      await client.dispose();
    }
  }, 90_000);

  test('first start seeds sites, devices with connections, groups, links, telemetry history, commands and alerts', async () => {
    const data = await gql(`{
      sites(first: 10) { totalCount edges { node { siteId name } } }
      devices(first: 50) { totalCount edges { node { deviceId status site { siteId } connection { carrierName } } } }
      deviceGroups(first: 10) { edges { node { name groupType memberCount } } }
      alertRules(first: 10) { totalCount }
      wirelessLinks(first: 20) { edges { node { apDeviceId cpeDeviceId state } } }
      unresolvedRegistrations(first: 10) { edges { node { apDeviceId stationMac } } }
    }`);
    expect(data.sites.totalCount).toBe(DEMO_SITES.length);
    expect(data.devices.totalCount).toBe(DEMO_DEVICES.length);
    const devices = new Map<string, Data>(data.devices.edges.map((edge: Data) => [edge.node.deviceId, edge.node]));
    expect(devices.get('gw-hq-01')).toMatchObject({ status: 'ONLINE', site: { siteId: 'hq' }, connection: { carrierName: '1NCE' } });
    // The spare on the shelf never connects; every other device does (the flaky one drops off now and then).
    expect(devices.get('gw-spare-01')!.status).toBe('OFFLINE');
    const online = [...devices.values()].filter((device) => device.status === 'ONLINE').map((device) => device.deviceId);
    expect(DEMO_DEVICES.map((device) => device.spec.deviceId).filter((deviceId) => !online.includes(deviceId) && deviceId !== FLAKY_DEVICE.deviceId)).toEqual(['gw-spare-01']);
    const groups = data.deviceGroups.edges.map((edge: Data) => edge.node);
    expect(groups).toContainEqual({ name: 'Cold chain', groupType: 'STATIC', memberCount: 4 });
    expect(groups).toContainEqual(expect.objectContaining({ name: 'Needs attention', groupType: 'DYNAMIC' }));
    expect(data.alertRules.totalCount).toBe(4);
    const links = data.wirelessLinks.edges.map((edge: Data) => `${edge.node.apDeviceId}->${edge.node.cpeDeviceId}`);
    expect(links).toEqual(expect.arrayContaining(['ap-west-01->cpe-farm-01', 'ap-west-01->cpe-farm-03', 'ap-west-02->cpe-farm-05']));
    expect(data.unresolvedRegistrations.edges).toContainEqual({ node: { apDeviceId: 'ap-west-02', stationMac: '02:00:5e:10:99:01' } });

    const now = Date.now();
    const history = await gql(`query ($from: DateTime!, $to: DateTime!) {
      device(deviceId: "sensor-cold-01") { telemetryHistory(metric: "temperature", from: $from, to: $to, bucket: "1 hour", aggregate: AVG) { count value } }
    }`, { from: new Date(now - 26 * 3_600_000).toISOString(), to: new Date(now + 60_000).toISOString() });
    const buckets = history.device.telemetryHistory;
    expect(buckets.length).toBeGreaterThanOrEqual(24);
    expect(buckets.reduce((sum: number, bucket: Data) => sum + bucket.count, 0)).toBeGreaterThanOrEqual(144);

    // Telemetry went through the alert rules like any reading: the warm room and the weak signal raised alerts.
    const alerts = await gql('{ alerts(first: 20) { edges { node { deviceId state severity rule { name } } } } }');
    const raised = alerts.alerts.edges.map((edge: Data) => `${edge.node.rule.name}:${edge.node.deviceId}:${edge.node.state}`);
    expect(raised).toEqual(expect.arrayContaining(['Cold chain too warm:sensor-cold-03:ACTIVE', 'Weak cellular signal:gw-cold-01:ACTIVE']));

    // The seeded commands: held until the devices were online, then one executed and one refused.
    const commandStatuses = async () => {
      const result = await gql('{ commands(first: 10) { edges { node { deviceId commandType status } } } }');
      return result.commands.edges.map((edge: Data) => `${edge.node.deviceId}:${edge.node.commandType}:${edge.node.status}`).sort();
    };
    await expect.poll(commandStatuses, { timeout: 20_000 }).toEqual(['gw-hq-01:reboot:DELIVERED', 'sensor-cold-02:firmware.update:FAILED']);
  }, 60_000);

  test('a restart seeds nothing again, brings the fleet back, and a device finds its desired twin retained', async () => {
    const registered = await gql(`mutation { registerDevice(input: { deviceId: "mine-1", name: "Mine" }) {
      ... on RegisterDevicePayload { credentials { username password topicPrefix } } } }`);
    const credentials = registered.registerDevice.credentials;
    const written = await gql(`mutation { updateDeviceTwinDesired(input: { deviceId: "mine-1", expectedVersion: 0, desired: { led: "blue" } }) {
      __typename ... on UpdateDeviceTwinDesiredPayload { desiredVersion } } }`);
    expect(written.updateDeviceTwinDesired).toEqual({ __typename: 'UpdateDeviceTwinDesiredPayload', desiredVersion: 1 });

    await app.stop();
    app = await startEmbeddedDefault(DEMO_ON, app.dataDir);
    const live = await app.pulse.demo!.live;
    expect(live!.fleet.stats.connected).toBe(DEMO_DEVICES.length - 1);
    const counts = await gql('{ devices { totalCount } sites { totalCount } alertRules { totalCount } }');
    expect(counts).toEqual({ devices: { totalCount: DEMO_DEVICES.length + 1 }, sites: { totalCount: DEMO_SITES.length }, alertRules: { totalCount: 4 } });

    // The device was offline during the write and the restart: the broker restored the retained message.
    const device = await mqtt.connectAsync(app.pulse.mqttUrl, { clientId: 'demo/mine-1', username: credentials.username, password: credentials.password, protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const retained = new Promise<{ topic: string; payload: Data; retain: boolean }>((resolve) =>
        device.once('message', (topic, payload, packet) => resolve({ topic, payload: JSON.parse(payload.toString()), retain: packet.retain })),
      );
      await device.subscribeAsync(`${credentials.topicPrefix}twin/desired`, { qos: 1 });
      expect(await retained).toMatchObject({ topic: `${credentials.topicPrefix}twin/desired`, retain: true, payload: { version: 1, state: { led: 'blue' } } });
    } finally {
      await device.endAsync();
    }
  }, 120_000);

  test('DEMO=reset deletes tenant demo and seeds it again', async () => {
    await app.stop();
    app = await startEmbeddedDefault({ DEMO: 'reset' }, app.dataDir);
    const data = await gql('{ devices(first: 50) { totalCount edges { node { deviceId } } } }');
    expect(data.devices.totalCount).toBe(DEMO_DEVICES.length);
    expect(data.devices.edges.map((edge: Data) => edge.node.deviceId)).not.toContain('mine-1');
  }, 120_000);
});

describe('when the demo runs', () => {
  test.each([
    ['auto', 'pglite', 'development', true],
    ['auto', 'pglite', 'production', true],
    ['auto', 'pglite', 'test', false],
    ['auto', 'postgres', 'development', false],
    ['on', 'postgres', 'test', true],
    ['off', 'pglite', 'development', false],
    ['reset', 'postgres', 'development', true],
  ] as const)('DEMO=%s on %s, NODE_ENV=%s: %s', (mode, database, nodeEnv, wanted) => {
    expect(demoWanted(mode, database, nodeEnv)).toBe(wanted);
  });

  test('DEMO=false leaves tenant demo empty', async () => {
    const bare = await startEmbeddedDefault({ DEMO: 'false' });
    try {
      expect(bare.pulse.demo).toBeUndefined();
      const result = await postGraphQL<Data>(bare.pulse.url, bare.pulse.developmentToken!, '{ devices { totalCount } }');
      expect(result.data.devices.totalCount).toBe(0);
    } finally {
      await bare.dispose();
    }
  }, 120_000);
});
