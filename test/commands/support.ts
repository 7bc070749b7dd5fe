/**
 * Helpers of the commands tests: a private database per test file, simulated devices (mqtt.js
 * clients that receive commands and ack them), and the GraphQL operations.
 *
 * Why a private database: the dispatch sweep and the start-up task work across tenants (they
 * publish every ONLINE device's QUEUED commands), and every test app has its own broker. On the
 * run's shared database another file's app could publish this file's commands to its own broker.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { TestApp } from '../harness/app.js';
import { startTestApp } from '../harness/app.js';
import { createScratchDatabase, dropScratchDatabase, grantAppRole, uniqueName, withAdmin, type ScratchDatabase } from '../harness/postgres.js';
import { buildTopic } from '../harness/topics.js';
import { keepPresence, nextSettled, registerDevice, status } from '../connectivity/support.js';
import type { SettledMessage } from '../../src/mqtt/bridge.js';

export interface PrivateDatabase {
  database: ScratchDatabase;
  /** What startTestApp needs to use it. */
  env: Record<string, string>;
  /** Runs SQL as the owner (harness-only inspection and set-up the public API cannot do yet). */
  sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  dispose(): Promise<void>;
}

/** A fresh database for one test file; the apps started on it apply the migrations. */
export async function privateDatabase(): Promise<PrivateDatabase> {
  const database = await createScratchDatabase('pulse_cmd');
  // pulse_app exists cluster-wide since the run's global set-up migrated the shared database.
  await grantAppRole(database);
  return {
    database,
    env: { DATABASE_URL: database.appUrl, MIGRATION_DATABASE_URL: database.ownerUrl },
    sql: <T>(text: string, values: unknown[] = []) => withAdmin(async (client) => (await client.query(text, values)).rows as T[], database.name),
    dispose: () => dropScratchDatabase(database),
  };
}

export interface CommandMessage {
  commandId: string;
  commandType: string;
  params: Record<string, unknown>;
  expiresAt: string;
}

export interface Ack {
  status: 'delivered' | 'failed';
  result?: Record<string, unknown>;
  error?: string;
}

/** A device as firmware would be: subscribed to its commands (QoS 1, persistent session), acking on request. */
export interface SimulatedDevice {
  tenantId: string;
  deviceId: string;
  client: MqttClient;
  /** Every command message received, in arrival order (duplicates included). */
  received: CommandMessage[];
  /** Resolves with the next command not yet taken by an earlier call. */
  nextCommand(): Promise<CommandMessage>;
  /** Publishes an ack (QoS 1) and resolves on the broker's PUBACK, whoever processes it. */
  publishAck(commandId: string, ack?: Ack): Promise<void>;
  /** Publishes an ack and resolves with how `app`'s bridge settled it, once its reactions ran. */
  ack(commandId: string, ack?: Ack, app?: TestApp): Promise<SettledMessage['outcome']>;
  /** Publishes `online` and waits until the bridge applied it and the reactions ran. */
  online(app?: TestApp): Promise<void>;
  close(): Promise<void>;
}

const devices: SimulatedDevice[] = [];

/**
 * Connects a device to `app`'s broker (or `url`) and subscribes to its commands (it is not ONLINE
 * until `online()`). Without an app, `ack` and `online` need one passed in.
 */
export async function simulatedDevice(
  app: TestApp | null,
  tenantId: string,
  deviceId: string,
  options: { url?: string; clientId?: string; reconnectPeriod?: number; credentials?: { username: string; password: string } } = {},
): Promise<SimulatedDevice> {
  const url = options.url ?? app?.mqttUrl;
  if (!url) throw new Error('simulatedDevice needs an app or a url');
  const session = options.credentials
    ? // The embedded broker (Aedes) speaks MQTT 3.1.1 and takes the device's own client ID and credentials.
      ({ protocolVersion: 4, clientId: `${tenantId}/${deviceId}`, ...options.credentials } as const)
    : ({ protocolVersion: 5, clientId: options.clientId ?? uniqueName('dev'), properties: { sessionExpiryInterval: 600 } } as const);
  const client = await connectAsync(url, { ...session, clean: false, reconnectPeriod: options.reconnectPeriod ?? 0, connectTimeout: 5_000 });
  const received: CommandMessage[] = [];
  const waiting: Array<(message: CommandMessage) => void> = [];
  let taken = 0;
  client.on('message', (_topic, payload) => {
    received.push(JSON.parse(payload.toString()) as CommandMessage);
    while (waiting.length > 0 && taken < received.length) waiting.shift()!(received[taken++]!);
  });
  await client.subscribeAsync(`pulse/${tenantId}/${deviceId}/commands/+`, { qos: 1 });
  const device: SimulatedDevice = {
    tenantId,
    deviceId,
    client,
    received,
    async publishAck(commandId, ack = { status: 'delivered' }) {
      await client.publishAsync(buildTopic.commandAck(tenantId, deviceId, commandId), JSON.stringify(ack), { qos: 1 });
    },
    nextCommand: () => (taken < received.length ? Promise.resolve(received[taken++]!) : new Promise((resolve) => waiting.push(resolve))),
    async ack(commandId, ack = { status: 'delivered' }, target = app ?? undefined) {
      if (!target) throw new Error('ack: which app settles it?');
      const topic = buildTopic.commandAck(tenantId, deviceId, commandId);
      const settled = nextSettled(target, topic);
      await client.publishAsync(topic, JSON.stringify(ack), { qos: 1 });
      const outcome = await settled;
      await target.pulse.app.reactions.idle();
      return outcome;
    },
    async online(target = app ?? undefined) {
      if (!target) throw new Error('online: which app settles it?');
      const topic = buildTopic.status(tenantId, deviceId);
      const settled = nextSettled(target, topic);
      await client.publishAsync(topic, status('online', uniqueName('s')), { qos: 1 });
      await settled;
      await target.pulse.app.reactions.idle();
    },
    close: () => client.endAsync(true).catch(() => undefined),
  };
  devices.push(device);
  return device;
}

export async function closeDevices(): Promise<void> {
  await Promise.all(devices.splice(0).map((device) => device.close()));
}

/** Registers devices through the API, with presence timeouts long enough that workers run with a future clock leave them alone. */
export async function registerDevices(app: TestApp, token: string, deviceIds: readonly string[]): Promise<void> {
  await keepPresence(app, token);
  for (const deviceId of deviceIds) await registerDevice(app, token, deviceId);
}

/** Registers the device and connects it ONLINE. */
export async function onlineDevice(app: TestApp, token: string, tenantId: string, deviceId: string): Promise<SimulatedDevice> {
  await registerDevices(app, token, [deviceId]);
  const device = await simulatedDevice(app, tenantId, deviceId);
  await device.online();
  return device;
}

export const COMMAND_FIELDS = /* GraphQL */ `
  id commandId deviceId commandType params status statusChangedAt ttlSeconds expiresAt idempotencyKey attempts
  lastPublishedAt sentAt ackedAt deliveredAt failedAt cancelledAt ack result failureReason groupId createdBy createdAt
`;

export const SEND_COMMAND = /* GraphQL */ `
  mutation Send($input: SendCommandInput!) {
    sendCommand(input: $input) {
      __typename
      ... on SendCommandPayload { replayed command { ${COMMAND_FIELDS} } }
      ... on ValidationError { issues { path code message } }
      ... on Error { code message }
    }
  }`;

export const COMMAND = /* GraphQL */ `
  query Command($id: ID!) { command(id: $id) { ${COMMAND_FIELDS} } }`;

export const CANCEL_COMMAND = /* GraphQL */ `
  mutation Cancel($id: ID!) {
    cancelCommand(input: { id: $id }) {
      __typename
      ... on CancelCommandPayload { command { commandId status cancelledAt } }
      ... on CommandNotCancellable { status publishing }
      ... on Error { code message }
    }
  }`;

export type Command = {
  id: string;
  commandId: string;
  deviceId: string;
  commandType: string;
  params: Record<string, unknown>;
  status: string;
  sentAt: string | null;
  ackedAt: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
  cancelledAt: string | null;
  attempts: number;
  ack: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  failureReason: string | null;
  expiresAt: string;
  idempotencyKey: string | null;
} & Record<string, unknown>;

type SendResult = { __typename: string; replayed?: boolean; command?: Command; code?: string; issues?: Array<{ path: string[]; code: string }> };

/** sendCommand's result member, as the client sees it. */
export async function send(app: TestApp, token: string, input: Record<string, unknown>): Promise<SendResult> {
  const result = await app.gql<{ sendCommand: SendResult }>(token, SEND_COMMAND, { input: { commandType: 'reboot', ...input } });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.sendCommand;
}

/** Sends and returns the created command (fails the test on a typed error). */
export async function sendOk(app: TestApp, token: string, input: Record<string, unknown>): Promise<Command> {
  const result = await send(app, token, input);
  if (!result.command) throw new Error(`sendCommand: ${JSON.stringify(result)}`);
  return result.command;
}

export async function readCommand(app: TestApp, token: string, id: string): Promise<Command | null> {
  const result = await app.gql<{ command: Command | null }>(token, COMMAND, { id });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.command;
}

/** Statuses of commands by commandId, read through the API. */
export async function statusesOf(app: TestApp, token: string, commands: readonly { id: string }[]): Promise<string[]> {
  return Promise.all(commands.map(async (command) => (await readCommand(app, token, command.id))?.status ?? 'NONE'));
}

/** Sum of a labelled counter's values with `label = value`. */
export async function counterValue(app: TestApp, metric: 'transitions' | 'acks' | 'publishes', label: string, value: string): Promise<number> {
  const values = (await app.pulse.app.metrics.commands[metric].get()).values;
  return values.filter((entry) => entry.labels[label as never] === value).reduce((sum, entry) => sum + entry.value, 0);
}

/** Starts an app on the private database. */
export function startOn(db: PrivateDatabase, env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp({ ...db.env, ...env });
}

export const inFuture = (seconds: number) => new Date(Date.now() + seconds * 1000);

/** A static group with these members, through the groups module's mutations. */
export async function createStaticGroup(app: TestApp, token: string, name: string, deviceIds: readonly string[]): Promise<string> {
  const created = await app.gql<{ createDeviceGroup: { group?: { groupId: string } } }>(
    token,
    'mutation($input: CreateDeviceGroupInput!) { createDeviceGroup(input: $input) { __typename ... on CreateDeviceGroupPayload { group { groupId } } } }',
    { input: { name } },
  );
  const groupId = created.data?.createDeviceGroup.group?.groupId;
  if (!groupId) throw new Error(`createDeviceGroup: ${JSON.stringify(created)}`);
  if (deviceIds.length > 0) {
    const added = await app.gql<{ addDevicesToGroup: { __typename: string } }>(
      token,
      'mutation($input: GroupMembersInput!) { addDevicesToGroup(input: $input) { __typename } }',
      { input: { groupId, deviceIds } },
    );
    if (added.data?.addDevicesToGroup.__typename !== 'AddDevicesToGroupPayload') throw new Error(`addDevicesToGroup: ${JSON.stringify(added)}`);
  }
  return groupId;
}

