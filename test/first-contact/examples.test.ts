/**
 * The README's example operations (examples/*.graphql, which the README shows verbatim) run in
 * README order against a fresh embedded default — demo fleet included, as `npm start` gives it —
 * with the device the README registers simulated over MQTT. Every operation has its assertions
 * here; an example without them fails the test, so the examples cannot drift from the server.
 */
import type { Client } from 'graphql-ws';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PulseEventName } from '../../src/events/events.js';
import { DEMO_DEVICES } from '../../src/modules/demo/fleet-plan.js';
import { newStats, SimulatedDevice } from '../../src/modules/demo/simulator/device.js';
import type { TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { exampleFiles, postGraphQL, readmeGraphQLBlocks, startEmbeddedDefault, streamOf, wsClient, type EmbeddedDefault, type EventStream } from './support.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- results are checked field by field below */
type Data = any;
type Event = any;

interface Context {
  device?: SimulatedDevice;
  groupId?: string;
  commandId?: string;
  streams: Map<string, EventStream<Event>>;
}

interface Step {
  variables?(context: Context): Record<string, unknown>;
  /** What must have happened before the operation runs (a device message, an awaited event). */
  before?(context: Context): Promise<void>;
  check(data: Data, context: Context): void | Promise<void>;
}

interface SubscriptionStep {
  event: PulseEventName;
  variables?(context: Context): Record<string, unknown>;
  /** Awaited at the end of the operation's file: what the operations after it caused. */
  expectation(stream: EventStream<Event>, context: Context): Promise<void>;
}

const DEVICE = 'gw-17';
const stream = (context: Context, name: string) => context.streams.get(name)!;

const steps: Record<string, Step> = {
  // 01-devices
  CreateSite: {
    check: (data) => expect(data.createSite).toEqual({ __typename: 'CreateSitePayload', site: { siteId: 'lab', name: 'Lab' } }),
  },
  RegisterDevice: {
    async check(data, context) {
      const result = data.registerDevice;
      expect(result.__typename).toBe('RegisterDevicePayload');
      expect(result.device).toMatchObject({ deviceId: DEVICE, status: 'OFFLINE' });
      expect(result.credentials).toMatchObject({ username: `demo/${DEVICE}`, topicPrefix: `pulse/demo/${DEVICE}/` });
      // The README's next step: the device connects with these credentials.
      context.device = new SimulatedDevice({
        mqttUrl: app.pulse.mqttUrl,
        tenantId: 'demo',
        deviceId: DEVICE,
        credentials: result.credentials,
        behaviour: { heartbeatSeconds: 30, telemetrySeconds: 0, applyDelayMs: 0, reported: { fw: { version: '2.4.1' } } },
        stats: newStats(),
      });
      await context.device.start();
    },
  },
  ListDevices: {
    check(data) {
      const node = data.devices.edges.map((edge: Data) => edge.node).find((candidate: Data) => candidate.deviceId === DEVICE);
      expect(node).toMatchObject({ name: 'Gateway 17', status: 'ONLINE', site: { name: 'Lab' }, tags: [{ key: 'env', value: 'prod' }] });
      expect(data.devices.totalCount).toBeGreaterThanOrEqual(1);
    },
  },
  // 02-twin
  ReadTwin: {
    // The device's report at connect was acknowledged (QoS 1) only once stored.
    check(data) {
      expect(data.device.twin).toMatchObject({ desiredVersion: 0, syncStatus: 'IN_SYNC', desired: {}, reported: { fw: { version: '2.4.1' } } });
    },
  },
  WriteDesired: {
    check(data) {
      expect(data.updateDeviceTwinDesired).toMatchObject({ __typename: 'UpdateDeviceTwinDesiredPayload', desiredVersion: 1, autoMerged: false, etag: '"1"' });
    },
  },
  TwinHistory: {
    before: async (context) =>
      void (await stream(context, 'WatchTwin').until((event) => event.deviceTwinChanged.direction === 'REPORTED' && event.deviceTwinChanged.syncStatus === 'IN_SYNC' && event.deviceTwinChanged.desiredVersion === 1, 'the device applying version 1')),
    check(data) {
      expect(data.device.twin).toMatchObject({ desiredVersion: 1, syncStatus: 'IN_SYNC', lastConvergence: { desiredVersion: 1 } });
      const entries = data.twinHistory.edges.map((edge: Data) => edge.node);
      expect(entries).toContainEqual(expect.objectContaining({ direction: 'DESIRED', version: 1, actorType: 'USER', patch: { config: { network: { apn: 'iot.1nce.net' } } } }));
      expect(entries.some((entry: Data) => entry.direction === 'REPORTED')).toBe(true);
    },
  },
  // 03-connectivity
  SetConnection: {
    check: (data) => expect(data.upsertDeviceConnection).toEqual({ __typename: 'UpsertDeviceConnectionPayload', connection: { carrierName: '1NCE', simIccid: '8988228066602306734', overDataLimit: false } }),
  },
  Connectivity: {
    async before(context) {
      // The README's "pull the plug": the broker publishes the device's will, then it reconnects.
      context.device!.dropConnection(1);
      await stream(context, 'WatchConnectivity').until((event) => event.deviceConnectivityChanged.deviceId === DEVICE && event.deviceConnectivityChanged.reason === 'LWT', 'the will');
      await stream(context, 'WatchConnectivity').until(
        (event) => event.deviceConnectivityChanged.deviceId === DEVICE && event.deviceConnectivityChanged.status === 'ONLINE' && stream(context, 'WatchConnectivity').events.some((seen) => seen.deviceConnectivityChanged.reason === 'LWT'),
        'the device back online',
      );
    },
    check(data) {
      expect(data.device).toMatchObject({ status: 'ONLINE', connection: { connectionType: 'CELLULAR', carrierName: '1NCE', dataLimitMb: 500, ipAddress: '10.64.0.17' } });
      const reasons = data.device.connectionEvents.edges.map((edge: Data) => `${edge.node.eventType}:${edge.node.reason}`);
      expect(reasons).toEqual(expect.arrayContaining(['CONNECTED:MQTT_CONNECT', 'DISCONNECTED:LWT']));
      expect(data.device.uptime.onlineSeconds).toBeGreaterThanOrEqual(0);
      expect(typeof data.devices.totalCount).toBe('number');
    },
  },
  // 04-commands
  Reboot: {
    check(data, context) {
      expect(data.sendCommand).toMatchObject({ __typename: 'SendCommandPayload', replayed: false, command: { status: 'QUEUED' } });
      context.commandId = data.sendCommand.command.commandId;
    },
  },
  Commands: {
    before: async (context) =>
      void (await stream(context, 'WatchCommands').until((event) => event.commandStatusChanged.commandId === context.commandId && event.commandStatusChanged.status === 'DELIVERED', 'the ack')),
    check(data, context) {
      const command = data.device.commands.edges.map((edge: Data) => edge.node).find((node: Data) => node.commandId === context.commandId);
      expect(command).toMatchObject({ commandType: 'reboot', status: 'DELIVERED', result: { commandType: 'reboot' } });
      expect(command.deliveredAt).not.toBeNull();
    },
  },
  // 05-groups
  NewGroup: {
    check(data, context) {
      expect(data.createDeviceGroup).toMatchObject({ __typename: 'CreateDeviceGroupPayload', group: { name: 'Lab devices' } });
      context.groupId = data.createDeviceGroup.group.groupId;
    },
  },
  AddToGroup: {
    variables: (context) => ({ groupId: context.groupId }),
    check: (data) => expect(data.addDevicesToGroup).toEqual({ __typename: 'AddDevicesToGroupPayload', results: [{ deviceId: DEVICE, outcome: 'ADDED' }], group: { memberCount: 1 } }),
  },
  NewDynamicGroup: {
    check(data) {
      expect(data.createDynamicDeviceGroup.__typename).toBe('CreateDynamicDeviceGroupPayload');
      expect(data.createDynamicDeviceGroup.group.memberCount).toBe(data.createDynamicDeviceGroup.group.members.edges.length);
    },
  },
  Fleet: {
    check(data) {
      // The demo fleet and the README's gateway.
      expect(data.fleetSummary.total).toBe(DEMO_DEVICES.length + 1);
      const groups = data.deviceGroups.edges.map((edge: Data) => edge.node);
      expect(groups).toContainEqual(expect.objectContaining({ name: 'Lab devices', groupType: 'STATIC', memberCount: 1 }));
      expect(groups).toContainEqual(expect.objectContaining({ name: 'Prod gateways out of sync', groupType: 'DYNAMIC' }));
    },
  },
  // 06-telemetry-alerts
  AlertWhenHot: {
    check: (data) => expect(data.createAlertRule).toMatchObject({ __typename: 'CreateAlertRulePayload', alertRule: { name: 'Gateway 17 too hot' } }),
  },
  Telemetry: {
    async before(context) {
      await context.device!.publish('telemetry', { metrics: { temperature: 65.5 } });
      await stream(context, 'WatchAlerts').until((event) => event.alertChanged.change === 'RAISED', 'the alert');
    },
    check(data) {
      expect(data.device.telemetry.latest).toContainEqual(expect.objectContaining({ metric: 'temperature', value: 65.5 }));
      expect(data.device.alerts.edges[0].node).toMatchObject({ severity: 'MAJOR', state: 'ACTIVE', value: 65.5, rule: { name: 'Gateway 17 too hot' } });
    },
  },
};

const subscriptions: Record<string, SubscriptionStep> = {
  WatchDevices: {
    event: 'deviceChanged',
    expectation: async (events) =>
      expect((await events.until((event) => event.deviceChanged.deviceId === DEVICE, 'the registration')).deviceChanged).toEqual({
        change: 'REGISTERED',
        deviceId: DEVICE,
        // Re-read when the event is delivered: by then the device may have connected.
        device: { name: 'Gateway 17', status: expect.stringMatching(/^(OFFLINE|ONLINE)$/), site: { name: 'Lab' } },
      }),
  },
  WatchTwin: {
    event: 'deviceTwinChanged',
    async expectation(events) {
      await events.until((event) => event.deviceTwinChanged.direction === 'DESIRED' && event.deviceTwinChanged.desiredVersion === 1, 'the desired write');
      expect(events.events.map((event) => event.deviceTwinChanged.direction)).toContain('REPORTED');
    },
  },
  WatchConnectivity: {
    event: 'deviceConnectivityChanged',
    async expectation(events) {
      const mine = events.events.map((event) => event.deviceConnectivityChanged).filter((event) => event.deviceId === DEVICE);
      expect(mine.map((event) => `${event.previousStatus}->${event.status}:${event.reason}`)).toEqual(['ONLINE->OFFLINE:LWT', 'OFFLINE->ONLINE:MQTT_CONNECT']);
    },
  },
  WatchCommands: {
    event: 'commandStatusChanged',
    async expectation(events, context) {
      await events.until((event) => event.commandStatusChanged.status === 'DELIVERED', 'the ack');
      const statuses = events.events.filter((event) => event.commandStatusChanged.commandId === context.commandId).map((event) => event.commandStatusChanged.status);
      // Created, then (SENT at the broker's PUBACK, unless the device's ack overtook it) DELIVERED.
      expect(statuses[0]).toBe('QUEUED');
      expect(statuses.at(-1)).toBe('DELIVERED');
    },
  },
  WatchGroup: {
    event: 'deviceGroupMembershipChanged',
    variables: (context) => ({ groupId: context.groupId }),
    expectation: async (events) => expect((await events.until(() => true, 'the join')).deviceGroupMembershipChanged).toMatchObject({ deviceId: DEVICE, change: 'JOINED' }),
  },
  WatchAlerts: {
    event: 'alertChanged',
    expectation: async (events) => expect((await events.until(() => true, 'the alert')).alertChanged).toMatchObject({ change: 'RAISED', severity: 'MAJOR', alert: { value: 65.5, threshold: 60, state: 'ACTIVE' } }),
  },
};

let app: EmbeddedDefault;
let client: Client;
const context: Context = { streams: new Map() };

beforeAll(async () => {
  // A fresh install as `npm start` gives it, demo fleet included (tests run with NODE_ENV=test, where DEMO=auto is off).
  app = await startEmbeddedDefault({ DEMO: 'true' });
  client = wsClient(app.pulse.port, app.pulse.developmentToken!);
}, 120_000);

afterAll(async () => {
  await Promise.all([...context.streams.values()].map((events) => events.close()));
  await client?.dispose();
  await context.device?.stop();
  await app?.dispose();
});

describe('README examples', async () => {
  const files = await exampleFiles();

  test('the README shows every example file, verbatim and in order, and nothing else as GraphQL', async () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(await readmeGraphQLBlocks()).toEqual(files.map((file) => file.source));
  });

  test('every example operation has its assertions here, and every assertion its operation', () => {
    const names = files.flatMap((file) => operationsOf(file.source).map((operation) => operation.name!.value));
    expect([...names].sort()).toEqual([...Object.keys(steps), ...Object.keys(subscriptions)].sort());
  });

  test.each(files.map((file) => [file.name, file.source] as const))('%s runs on a fresh install', async (_name, source) => {
    const token = app.pulse.developmentToken!;
    const started: Array<[string, SubscriptionStep]> = [];
    for (const operation of operationsOf(source)) {
      const name = operation.name!.value;
      if (operation.operation === 'subscription') {
        const step = subscriptions[name]!;
        const listening = nextListener({ pulse: app.pulse } as unknown as TestApp, step.event, 'demo');
        context.streams.set(name, streamOf<Event>(client, source, step.variables?.(context) ?? {}, name));
        await listening;
        started.push([name, step]);
        continue;
      }
      const step = steps[name]!;
      await step.before?.(context);
      const result = await postGraphQL<Data>(app.pulse.url, token, source, { operationName: name, variables: step.variables?.(context) });
      expect(result.errors, `${name} answered errors`).toBeUndefined();
      await step.check(result.data, context);
    }
    for (const [name, step] of started) await step.expectation(stream(context, name), context);
  }, 60_000);
});

function operationsOf(source: string): OperationDefinitionNode[] {
  return parse(source).definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
}
