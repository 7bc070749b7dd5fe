/**
 * Helpers the connectivity, connections and bridge tests share: device clients, publishing and
 * waiting for the bridge to settle, reading the connectivity log.
 */
import { connectAsync, type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { SettledMessage } from '../../src/mqtt/bridge.js';
import type { TestApp } from '../harness/app.js';
export { freePort, startMosquitto, type OwnMosquitto } from '../harness/mosquitto.js';
import { uniqueName } from '../harness/postgres.js';
import { REGISTER_DEVICE } from '../harness/operations.js';

export interface Registered {
  deviceId: string;
  credentials: { username: string; password: string; topicPrefix: string };
}

/** Registers a device through the API and returns its one-time credentials. */
export async function registerDevice(app: TestApp, token: string, deviceId: string): Promise<Registered> {
  const result = await app.gql<{ registerDevice: { credentials?: Registered['credentials']; __typename: string } }>(token, REGISTER_DEVICE, {
    input: { deviceId, name: deviceId },
  });
  const credentials = result.data?.registerDevice.credentials;
  if (!credentials) throw new Error(`registerDevice failed: ${JSON.stringify(result)}`);
  return { deviceId, credentials };
}

const SET_TIMEOUTS = /* GraphQL */ `
  mutation($input: SetPresenceTimeoutsInput!) {
    setPresenceTimeouts(input: $input) { __typename ... on SetPresenceTimeoutsPayload { timeouts { staleAfterSeconds offlineAfterSeconds } } ... on Error { code message } }
  }`;

/** Sets presence timeouts (tenant defaults, or one device's with `deviceId`). */
export async function setTimeouts(app: TestApp, token: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await app.gql<{ setPresenceTimeouts: Record<string, unknown> }>(token, SET_TIMEOUTS, { input });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  const outcome = result.data.setPresenceTimeouts;
  // The payload nests the timeouts; flatten it so callers read `staleAfterSeconds` as before.
  return outcome['__typename'] === 'SetPresenceTimeoutsPayload' ? { __typename: 'PresenceTimeouts', ...(outcome['timeouts'] as object) } : outcome;
}

/**
 * Timeouts of a month for tenants whose devices must stay as a test left them: the presence
 * evaluator works across tenants, and other tests run it with a clock ahead of time.
 */
export const keepPresence = (app: TestApp, token: string) =>
  setTimeouts(app, token, { staleAfterSeconds: 2_500_000, offlineAfterSeconds: 2_592_000 });

const clients: MqttClient[] = [];

/** An anonymous MQTT 5 device client on the broker at `url` (the app's: `app.mqttUrl`), closed by {@link closeClients}. */
export async function deviceClient(options: IClientOptions & { url: string }): Promise<MqttClient> {
  const { url, ...rest } = options;
  const client = await connectAsync(url, { clientId: uniqueName('dev'), protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ...rest });
  clients.push(client);
  return client;
}

export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
}

/**
 * Publishes with QoS 1 and resolves once `app`'s bridge has settled that topic `count` times
 * (the listener is registered first, so a fast bridge cannot be missed).
 */
export async function publishSettled(
  app: TestApp,
  client: MqttClient,
  topic: string,
  payload: string | Buffer,
  options: IClientPublishOptions = {},
): Promise<SettledMessage['outcome']> {
  const settled = nextSettled(app, topic);
  await client.publishAsync(topic, payload, { qos: 1, ...options });
  return settled;
}

/** Resolves with the outcome of the next message on `topic` the app's bridge settles. */
export function nextSettled(app: TestApp, topic: string, count = 1): Promise<SettledMessage['outcome']> {
  return new Promise((resolve) => {
    let seen = 0;
    const off = app.pulse.app.bridge.onSettled((message) => {
      if (message.topic !== topic || ++seen < count) return;
      off();
      resolve(message.outcome);
    });
  });
}

export interface LoggedEvent {
  eventType: string;
  reason: string;
  previousStatus: string | null;
  newStatus: string;
  sessionId: string | null;
  occurredAt: string;
}

const PRESENCE = /* GraphQL */ `
  query($deviceId: String!) {
    device(deviceId: $deviceId) {
      status lastSeenAt
      connectionEvents(first: 100) { totalCount edges { node { eventType reason previousStatus newStatus sessionId occurredAt } } }
    }
  }`;

/** A device's status and its connectivity log, newest first. */
export async function presenceOf(app: TestApp, token: string, deviceId: string): Promise<{ status: string; lastSeenAt: string | null; events: LoggedEvent[] }> {
  type Result = { device: { status: string; lastSeenAt: string | null; connectionEvents: { edges: Array<{ node: LoggedEvent }> } } | null };
  const result = await app.gql<Result>(token, PRESENCE, { deviceId });
  const device = result.data?.device;
  if (!device) throw new Error(`no device ${deviceId}: ${JSON.stringify(result)}`);
  return { status: device.status, lastSeenAt: device.lastSeenAt, events: device.connectionEvents.edges.map((edge) => edge.node) };
}

export const status = (state: 'online' | 'offline', sessionId?: string) => JSON.stringify({ state, ...(sessionId && { sessionId }) });
