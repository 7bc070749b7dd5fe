/**
 * Helpers the connectivity, connections and bridge tests share: device clients, publishing and
 * waiting for the bridge to settle, reading the connectivity log, and a Mosquitto of our own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { SettledMessage } from '../../src/mqtt/bridge.js';
import { MQTT_URL, type TestApp } from '../harness/app.js';
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
    setPresenceTimeouts(input: $input) { __typename ... on PresenceTimeouts { staleAfterSeconds offlineAfterSeconds } ... on Error { code message } }
  }`;

/** Sets presence timeouts (tenant defaults, or one device's with `deviceId`). */
export async function setTimeouts(app: TestApp, token: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await app.gql<{ setPresenceTimeouts: Record<string, unknown> }>(token, SET_TIMEOUTS, { input });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.setPresenceTimeouts;
}

/**
 * Timeouts of a month for tenants whose devices must stay as a test left them: the presence
 * evaluator works across tenants, and other tests run it with a clock ahead of time.
 */
export const keepPresence = (app: TestApp, token: string) =>
  setTimeouts(app, token, { staleAfterSeconds: 2_500_000, offlineAfterSeconds: 2_592_000 });

const clients: MqttClient[] = [];

/** An anonymous MQTT 5 device client on Mosquitto (or `url`), closed by {@link closeClients}. */
export async function deviceClient(options: IClientOptions & { url?: string } = {}): Promise<MqttClient> {
  const { url = MQTT_URL, ...rest } = options;
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

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      const settle = (open: boolean) => {
        socket.destroy();
        resolve(open);
      };
      socket.once('connect', () => settle(true)).once('error', () => settle(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    // A bounded poll for a process to start listening; there is no event to wait for instead.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface OwnMosquitto {
  url: string;
  port: number;
  /** The running process's PID. */
  pid(): number | undefined;
  /** Stops the process (SIGTERM to its PID) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its configuration. */
  dispose(): Promise<void>;
}

/** A private Mosquitto on a free port (anonymous, in-memory): only this test's app sees its traffic. */
export async function startMosquitto(): Promise<OwnMosquitto> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pulse-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`);
  let child: ChildProcess | undefined;
  const own: OwnMosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    async start() {
      child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
      await waitForPort(port);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.pid === undefined) return;
      const exited = once(running, 'exit');
      process.kill(running.pid, 'SIGTERM');
      await exited;
    },
    async dispose() {
      await own.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await own.start();
  return own;
}
