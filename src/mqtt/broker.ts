/**
 * The embedded MQTT 3.1.1 broker (Aedes 1.x on a plain TCP server) with Pulse's device policy:
 * who may connect, publish and subscribe. Policy decisions are the pure functions of topics.ts;
 * this file wires them into Aedes' callback-style hooks.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { Aedes, type AuthErrorCode, type AuthenticateError, type Client, type ConnectPacket } from 'aedes';
import type { Logger } from 'pino';
import { withTimeout } from '../kernel/timeouts.js';
import { decodePayload } from './codec.js';
import type { DeviceWill } from './ingest.js';
import { deviceTopic, deviceTopicPrefix, isValidId, serviceMayPublish, serviceMaySubscribe, type TopicTable } from './topics.js';

/** A device identity, as resolved from its credentials. */
export interface DeviceIdentity {
  tenantId: string;
  deviceId: string;
}

export interface EmbeddedBrokerOptions {
  /** TCP port; 0 asks the OS for a free one (read the bound port from the result). */
  port: number;
  /** Interface to bind; default all interfaces. */
  host?: string;
  logger: Logger;
  /** Resolves device credentials to an identity, or `null` to refuse. Should be constant-time for unknown users. */
  authenticateDevice: (username: string, password: Buffer) => Promise<DeviceIdentity | null>;
  /** The API server's own principal (ingest, command sender): full access under `pulse/`. */
  serviceCredentials: { username: string; password: string };
  /** The modules' topics: what a device may publish and subscribe to. */
  topics: TopicTable;
  /** The will a device may leave (its offline status); without one, a CONNECT with a will is refused. */
  deviceWill?: DeviceWill;
  /**
   * Retained messages to hold before the port opens. Aedes keeps retained messages in memory only,
   * so what devices rely on finding (every `twin/desired`) is restored from the database at start.
   */
  retained?: ReadonlyArray<{ topic: string; payload: Buffer }>;
  /** Bound on `authenticateDevice`; a stuck database must not hold sockets paused forever. Default 10 s. */
  authTimeoutMs?: number;
  /**
   * Device password checks (scrypt on libuv's pool, plus a database lookup) run at once; more wait,
   * up to `maxQueuedLogins`, and a CONNECT beyond both is refused at once (SERVER_UNAVAILABLE, so the
   * device retries). A flood of logins, good or bad, then cannot take the CPU, the thread pool and
   * the connection pool from GraphQL. Defaults: half the cores (at least 1), and 16 per check.
   */
  maxConcurrentLogins?: number;
  maxQueuedLogins?: number;
}

/** Runs at most `concurrency` tasks at once with at most `queue` waiting; `null` when both are full. */
function boundedGate(concurrency: number, queue: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T | null> => {
    if (active < concurrency) active += 1;
    else if (waiting.length < queue) await new Promise<void>((resolve) => waiting.push(resolve));
    else return null;
    try {
      return await work();
    } finally {
      // The slot passes to the next waiter, or is freed.
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

export interface EmbeddedBroker {
  port: number;
  /** `mqtt://host:port` for clients of this process (loopback when bound to all interfaces). */
  url: string;
  /**
   * Closes every open session of a device (after its credentials were rotated or revoked, which
   * otherwise apply only at its next CONNECT). Returns how many were closed.
   */
  disconnectDevice(tenantId: string, deviceId: string): number;
  /** Stops accepting, disconnects every client (wills fire) and releases the port. Idempotent. */
  close(): Promise<void>;
}

type Principal = { kind: 'service' } | ({ kind: 'device'; prefix: string } & DeviceIdentity);

// CONNACK return codes, MQTT 3.1.1 §3.2.2.3 (Aedes' own enum is a const enum we cannot import
// under isolatedModules).
const IDENTIFIER_REJECTED = 2 as AuthErrorCode;
const SERVER_UNAVAILABLE = 3 as AuthErrorCode;
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;
const NOT_AUTHORIZED = 5 as AuthErrorCode;

type Refusal = { refused: AuthErrorCode; why: string };

/** Equal-length digests let timingSafeEqual compare secrets of any length without leaking it. */
function secretEquals(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Starts Aedes behind a `net.Server` on `port` (0 for a free one) and resolves once it listens.
 * Devices may only touch their own `pulse/{tenant}/{device}/` prefix; the service principal may
 * use all of `pulse/`; nobody may publish to `$SYS`.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = options.logger.child({ module: 'mqtt-broker' });
  const { topics, deviceWill } = options;
  const authTimeoutMs = options.authTimeoutMs ?? 10_000;
  const loginConcurrency = options.maxConcurrentLogins ?? Math.max(1, Math.floor(availableParallelism() / 2));
  const passwordCheck = boundedGate(loginConcurrency, options.maxQueuedLogins ?? 16 * loginConcurrency);
  const serviceUser = Buffer.from(options.serviceCredentials.username);
  const servicePassword = Buffer.from(options.serviceCredentials.password);
  const principals = new WeakMap<Client, Principal>();
  /** Open device sessions, for disconnectDevice; removed as they close. */
  const deviceSessions = new Set<Client>();
  // preConnect sees the CONNECT packet, authenticate does not: keep what the checks need.
  const connects = new WeakMap<Client, Pick<ConnectPacket, 'clientId' | 'will'>>();

  async function resolvePrincipal(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Principal | Refusal> {
    if (username === undefined || password === undefined) return { refused: BAD_USERNAME_OR_PASSWORD, why: 'no credentials' };
    if (secretEquals(Buffer.from(username), serviceUser)) {
      // A wrong service password is refused outright, never retried as a device login.
      return secretEquals(password, servicePassword) ? { kind: 'service' } : { refused: BAD_USERNAME_OR_PASSWORD, why: 'bad service password' };
    }
    let identity: DeviceIdentity | null;
    try {
      const checked = await passwordCheck(async () => ({ identity: await withTimeout(options.authenticateDevice(username, password), authTimeoutMs, 'authenticateDevice') }));
      if (checked === null) return { refused: SERVER_UNAVAILABLE, why: 'too many logins in progress' };
      identity = checked.identity;
    } catch (error) {
      // Not the device's fault: SERVER_UNAVAILABLE tells it to retry rather than to re-provision.
      log.error({ err: error, username, clientId: client.id }, 'device authentication failed with an error');
      return { refused: SERVER_UNAVAILABLE, why: 'authenticator error' };
    }
    if (identity === null) return { refused: BAD_USERNAME_OR_PASSWORD, why: 'unknown device or bad password' };
    if (!isValidId(identity.tenantId) || !isValidId(identity.deviceId)) {
      log.error({ username }, 'authenticateDevice returned invalid IDs');
      return { refused: SERVER_UNAVAILABLE, why: 'invalid identity' };
    }
    const { tenantId, deviceId } = identity;
    return { kind: 'device', tenantId, deviceId, prefix: deviceTopicPrefix(tenantId, deviceId) };
  }

  /** Checks that depend on both the principal and the CONNECT packet (client ID, will). */
  function connectRefusal(client: Client, principal: Principal): Refusal | null {
    const connect = connects.get(client);
    const will = connect?.will;
    if (principal.kind === 'service') {
      return will && !serviceMayPublish(will.topic) ? { refused: NOT_AUTHORIZED, why: 'will topic outside pulse/' } : null;
    }
    // A client ID is a session key: reusing another principal's would take over its session
    // ([MQTT-3.1.4-2]) and with it queued messages. Devices therefore use `{tenant}/{device}`,
    // optionally `/suffix`, or an empty ID (the broker assigns one, [MQTT-3.1.3-6]).
    const own = `${principal.tenantId}/${principal.deviceId}`;
    const clientId = connect?.clientId ?? client.id;
    if (clientId !== '' && clientId !== own && !clientId.startsWith(`${own}/`)) {
      return { refused: IDENTIFIER_REJECTED, why: `client id must be "${own}" or start with "${own}/"` };
    }
    // A retained will would be replayed as the device's state to every later subscriber, the
    // server's after a restart included: device messages are never retained (see authorizePublish).
    if (will?.retain) return { refused: NOT_AUTHORIZED, why: 'a device will must not be retained' };
    if (will) {
      // The Will Message is published on the device's behalf ([MQTT-3.1.2-8]): it must be its own
      // status topic with a status payload saying it went offline.
      if (!deviceWill || will.topic !== deviceTopic(principal.tenantId, principal.deviceId, deviceWill.topic)) {
        return { refused: NOT_AUTHORIZED, why: `will topic must be the device's ${deviceWill?.topic ?? '(none)'} topic` };
      }
      const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
      const decoded = decodePayload(deviceWill.payload, payload, { maxBytes: 4096 });
      if (!decoded.ok || !deviceWill.accepts(decoded.value)) {
        return { refused: NOT_AUTHORIZED, why: `will payload must be ${deviceWill.description}` };
      }
    }
    return null;
  }

  const broker = await Aedes.createBroker({
    preConnect(client, packet, callback) {
      connects.set(client, { clientId: packet.clientId, will: packet.will });
      callback(null, true);
    },

    authenticate(client, username, password, done) {
      void resolvePrincipal(client, username, password)
        .then((result) => ('refused' in result ? result : (connectRefusal(client, result) ?? result)))
        .then((result) => {
          if ('refused' in result) {
            log.info({ username, clientId: client.id, reason: result.why }, 'MQTT connection refused');
            // A refusal is a CONNACK with a non-zero code, then close ([MQTT-3.2.2-5]).
            const error = Object.assign(new Error(result.why), { returnCode: result.refused }) satisfies AuthenticateError;
            done(error, false);
            return;
          }
          principals.set(client, result);
          if (result.kind === 'device') deviceSessions.add(client);
          done(null, true);
        });
    },

    authorizePublish(client, packet, callback) {
      // [MQTT-3.3.5-2]: an unauthorised PUBLISH cannot be NAKed in 3.1.1; Aedes closes the connection.
      const refuse = (why: string) => callback(new Error(`publish to ${packet.topic} refused: ${why}`));
      if (packet.topic.startsWith('$')) return refuse('topics starting with $ are reserved to the broker');
      if (client === null) {
        // A will re-published by the broker after a restart; it was checked at CONNECT.
        const parsed = topics.parse(packet.topic);
        return parsed.ok && deviceWill && parsed.kind === deviceWill.kind ? callback(null) : refuse('not a device will');
      }
      const principal = principals.get(client);
      if (principal === undefined) return refuse('no principal');
      if (principal.kind === 'service') return serviceMayPublish(packet.topic) ? callback(null) : refuse('outside pulse/');
      // A retained device message would be delivered again at every subscribe (the server's after
      // each restart), long after it stopped being true: an `online` status would fabricate presence.
      if (packet.retain) {
        log.warn({ tenantId: principal.tenantId, deviceId: principal.deviceId, topic: packet.topic }, 'retained device publish refused');
        return refuse('devices may not publish retained messages');
      }
      if (topics.deviceMayPublish(principal.tenantId, principal.deviceId, packet.topic)) return callback(null);
      log.warn({ tenantId: principal.tenantId, deviceId: principal.deviceId, topic: packet.topic }, 'device publish refused');
      return refuse('not an inbound topic of this device');
    },

    authorizeSubscribe(client, subscription, callback) {
      const principal = principals.get(client);
      const allowed =
        principal?.kind === 'service'
          ? serviceMaySubscribe(subscription.topic)
          : principal?.kind === 'device' && topics.deviceMaySubscribe(principal.tenantId, principal.deviceId, subscription.topic);
      if (allowed) return callback(null, subscription);
      log.warn({ clientId: client.id, filter: subscription.topic }, 'subscription refused');
      // A null subscription is granted 0x80 (Failure) in the SUBACK, [MQTT-3.9.3-2]; the client stays connected.
      return callback(null, null);
    },

    authorizeForward(client, packet) {
      // Defence in depth: even a subscription restored from a persistent session cannot deliver
      // another device's messages to a device.
      const principal = principals.get(client);
      if (principal?.kind === 'service') return packet;
      return principal?.kind === 'device' && packet.topic.startsWith(principal.prefix) ? packet : null;
    },
  });

  // The base EventEmitter signature: Aedes emits 'error' (e.g. from will sweeps), which would crash
  // the process without a listener, but its typings do not declare it.
  (broker as EventEmitter).on('error', (error: Error) => log.error({ err: error }, 'broker error'));
  broker.on('clientDisconnect', (client) => deviceSessions.delete(client));
  broker.on('clientError', (client, error) => log.debug({ clientId: client.id, err: error }, 'MQTT client error'));
  broker.on('connectionError', (client, error) => log.debug({ clientId: client.id, err: error }, 'MQTT connection error'));

  // Before the port opens, so no device subscribes before its retained message is back.
  for (const message of options.retained ?? []) {
    await new Promise<void>((resolve, reject) =>
      broker.publish({ cmd: 'publish', topic: message.topic, payload: message.payload, qos: 1, retain: true, dup: false }, (error) => (error ? reject(error) : resolve())),
    );
  }
  if (options.retained?.length) log.info({ count: options.retained.length }, 'retained messages restored from the database');

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });

  const closeBroker = () => new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await closeBroker();
    throw error;
  });
  server.on('error', (error) => log.error({ err: error }, 'MQTT server error'));

  const { port } = server.address() as AddressInfo;
  // A wildcard bind is reachable on loopback; an explicit IPv4 literal avoids `localhost` → ::1
  // surprises on hosts without IPv6.
  const host = options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  log.info({ url: `mqtt://${host}:${port}`, bound: options.host ?? '0.0.0.0' }, 'embedded MQTT broker listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    disconnectDevice(tenantId, deviceId) {
      let closed = 0;
      for (const client of deviceSessions) {
        const principal = principals.get(client);
        if (principal?.kind !== 'device' || principal.tenantId !== tenantId || principal.deviceId !== deviceId) continue;
        deviceSessions.delete(client);
        client.close();
        closed += 1;
      }
      if (closed > 0) log.info({ tenantId, deviceId, closed }, 'device sessions closed');
      return closed;
    },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeBroker();
        // Aedes only closes clients that completed CONNECT; sockets still in the handshake would
        // hold server.close() until their connect timeout.
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        log.info({ port }, 'embedded MQTT broker closed');
      })();
      return closing;
    },
  };
}
