/**
 * One simulated device speaking the device protocol (docs/device-protocol.md) over real MQTT with
 * its own credentials: `status` online at each session (after subscribing) and its will offline,
 * heartbeats, telemetry, `twin/reported` that applies each desired version it is sent, command
 * acks, and — for an access point — `wireless/registrations` polls of its stations.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceCredentials } from './api.js';

/** Counters shared by every device of a run (the progress line reads them). */
export interface SimulatorStats {
  connected: number;
  sent: number;
  received: number;
  acked: number;
  errors: number;
  lastError?: string;
}

export const newStats = (): SimulatorStats => ({ connected: 0, sent: 0, received: 0, acked: 0, errors: 0 });

/** A station an access point reports: a CPE's radio MAC and the signal it is heard at. */
export interface SimulatedStation {
  mac: string;
  signalDbm: number;
  snrDb: number;
  /** Per poll, how far the signal may wander (dB); 0 keeps it steady. */
  drift: number;
}

export interface DeviceBehaviour {
  heartbeatSeconds: number;
  /** 0 disables telemetry. */
  telemetrySeconds: number;
  /** Metrics of one reading; called at each telemetry tick. */
  telemetry?: (device: SimulatedDevice) => Record<string, number>;
  /** What the device reports about itself when a session starts (firmware, network, …). */
  reported?: Record<string, unknown>;
  /** How long applying a desired version takes before it is reported. */
  applyDelayMs: number;
  /** Command types the device fails (acks `failed`); everything else is acked `delivered`. */
  failingCommands?: readonly string[];
  /** Access points: the radio and its stations, polled every `pollSeconds`. */
  radio?: { interface: string; pollSeconds: number; stations: SimulatedStation[] };
}

export interface SimulatedDeviceOptions {
  mqttUrl: string;
  tenantId: string;
  deviceId: string;
  credentials: DeviceCredentials;
  behaviour: DeviceBehaviour;
  stats: SimulatorStats;
  /** Seconds between reconnection attempts after a lost connection; 0 never reconnects. */
  reconnectSeconds?: number;
}

const CONNECT_TIMEOUT_MS = 10_000;

type DesiredMessage = { version?: unknown; state?: unknown };
type CommandMessage = { commandId?: unknown; commandType?: unknown; params?: unknown; expiresAt?: unknown };

/** A device of the fleet; `start()` connects it, `stop()` leaves cleanly (status offline, DISCONNECT). */
export class SimulatedDevice {
  readonly deviceId: string;
  private client: MqttClient | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private appliedDesiredVersion = 0;
  private readonly seenCommands = new Map<string, 'delivered' | 'failed'>();
  private readonly startedAt = Date.now();
  private pollId = Date.now();
  private online = false;
  /** Where each station's signal started: its drift is pulled back towards it. */
  private readonly homes = new Map<string, { signalDbm: number; snrDb: number }>();
  /** Resolves `start()` once the first session is set up. */
  private sessionStarted: (() => void) | undefined;

  constructor(private readonly options: SimulatedDeviceOptions) {
    this.deviceId = options.deviceId;
  }

  get isOnline(): boolean {
    return this.online;
  }

  get uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  private topic(suffix: string): string {
    return `${this.options.credentials.topicPrefix}${suffix}`;
  }

  /** Connects (resolving once the first session said online, rejecting on a refusal) and starts its timers. */
  start(): Promise<void> {
    const { options } = this;
    const client = mqtt.connect(options.mqttUrl, {
      clientId: `${options.tenantId}/${options.deviceId}`,
      username: options.credentials.username,
      password: options.credentials.password,
      protocolVersion: 4,
      clean: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectPeriod: (options.reconnectSeconds ?? 5) * 1000,
      will: { topic: this.topic('status'), payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: false },
    });
    this.client = client;
    client.on('connect', () => void this.onSession(client).then(() => this.sessionStarted?.()));
    client.on('close', () => {
      if (this.online) options.stats.connected -= 1;
      this.online = false;
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (error) => this.fail(`${options.deviceId}: ${error.message}`));
    this.startTimers();
    return new Promise<void>((resolve, reject) => {
      // mqtt.js retries a CONNECT that timed out without an 'error': bound the first attempt here.
      const timer = setTimeout(() => {
        const message = `no session within ${CONNECT_TIMEOUT_MS / 1000} s`;
        this.fail(`${options.deviceId}: ${message}`);
        reject(new Error(message));
      }, CONNECT_TIMEOUT_MS + 1_000);
      this.sessionStarted = () => {
        this.sessionStarted = undefined;
        clearTimeout(timer);
        resolve();
      };
      client.once('error', (error) => {
        clearTimeout(timer);
        if (!this.online) reject(error);
      });
    });
  }

  /** A new session: subscribe first, then say online, so no command arrives before it listens. */
  private async onSession(client: MqttClient): Promise<void> {
    try {
      await client.subscribeAsync([this.topic('twin/desired'), this.topic('commands/+')], { qos: 1 });
      await this.publish('status', { state: 'online', sessionId: randomUUID() });
      if (this.options.behaviour.reported) await this.publish('twin/reported', { state: this.options.behaviour.reported, mode: 'merge' });
      // An access point reports its stations at once, so its links exist from its first session on.
      if (this.options.behaviour.radio) await this.poll(this.options.behaviour.radio);
      if (!this.online) this.options.stats.connected += 1;
      this.online = true;
    } catch (error) {
      this.fail(`${this.deviceId}: session start failed: ${(error as Error).message}`);
    }
  }

  private startTimers(): void {
    const { behaviour } = this.options;
    // Spread over the interval, so a fleet started at once does not publish in lockstep.
    const every = (seconds: number, tick: () => void) => {
      this.later(Math.random() * seconds * 1000, () => {
        tick();
        this.timers.add(setInterval(tick, seconds * 1000));
      });
    };
    every(behaviour.heartbeatSeconds, () => void this.publish('heartbeat', { uptimeS: this.uptimeSeconds }, 0));
    if (behaviour.telemetrySeconds > 0 && behaviour.telemetry) {
      const reading = behaviour.telemetry;
      every(behaviour.telemetrySeconds, () => void this.publish('telemetry', { metrics: reading(this) }, 0));
    }
    if (behaviour.radio) {
      const radio = behaviour.radio;
      every(radio.pollSeconds, () => void this.poll(radio));
    }
  }

  /**
   * Publishes one poll of the radio's stations. Each signal wanders by up to its drift per poll
   * and is pulled back towards where it started, so a link hovers around its level for hours
   * instead of walking off.
   */
  private async poll(radio: NonNullable<DeviceBehaviour['radio']>): Promise<void> {
    for (const station of radio.stations) {
      let home = this.homes.get(station.mac);
      if (!home) this.homes.set(station.mac, (home = { signalDbm: station.signalDbm, snrDb: station.snrDb }));
      const wander = () => (Math.random() - 0.5) * 2 * station.drift;
      station.signalDbm = clamp(station.signalDbm + (home.signalDbm - station.signalDbm) * 0.2 + wander(), -95, -40);
      station.snrDb = clamp(station.snrDb + (home.snrDb - station.snrDb) * 0.2 + wander(), 0, 60);
    }
    this.pollId = Math.max(this.pollId + 1, Date.now());
    await this.publish('wireless/registrations', {
      pollId: this.pollId,
      interface: radio.interface,
      ts: new Date().toISOString(),
      stations: radio.stations.map((station) => ({
        mac: station.mac,
        signalDbm: Math.round(station.signalDbm),
        snrDb: Math.round(station.snrDb),
        txRateMbps: Math.max(6, Math.round(300 + station.signalDbm * 3)),
        rxRateMbps: Math.max(6, Math.round(280 + station.signalDbm * 3)),
      })),
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    this.options.stats.received += 1;
    let message: unknown;
    try {
      message = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.fail(`${this.deviceId}: unreadable message on ${topic}`);
    }
    if (topic === this.topic('twin/desired')) this.onDesired(message as DesiredMessage);
    else if (topic.startsWith(this.topic('commands/'))) this.onCommand(message as CommandMessage);
  }

  /** Applies a desired version once (the retained one arrives again at every session), after a delay. */
  private onDesired(message: DesiredMessage): void {
    if (typeof message.version !== 'number' || message.version <= this.appliedDesiredVersion) return;
    if (typeof message.state !== 'object' || message.state === null) return;
    this.appliedDesiredVersion = message.version;
    const state = message.state;
    this.later(this.options.behaviour.applyDelayMs, () => void this.publish('twin/reported', { state, mode: 'merge' }));
  }

  /** Acks a command once; a repeat (QoS 1 is at-least-once) gets the same verdict again. */
  private onCommand(message: CommandMessage): void {
    if (typeof message.commandId !== 'string' || typeof message.commandType !== 'string') return;
    const commandId = message.commandId;
    const seen = this.seenCommands.get(commandId);
    const failing = this.options.behaviour.failingCommands?.includes(message.commandType) ?? false;
    const verdict = seen ?? (failing ? 'failed' : 'delivered');
    this.seenCommands.set(commandId, verdict);
    if (this.seenCommands.size > 1000) this.seenCommands.delete(this.seenCommands.keys().next().value!);
    const ack =
      verdict === 'delivered'
        ? { status: 'delivered', result: { commandType: message.commandType, executedAt: new Date().toISOString() } }
        : { status: 'failed', error: `${message.commandType} is not supported by this firmware` };
    void this.publish(`commands/${commandId}/ack`, ack).then((sent) => {
      if (sent) this.options.stats.acked += 1;
    });
  }

  /** QoS 1 by default: the server acknowledges once the message's effect is stored. */
  async publish(suffix: string, payload: unknown, qos: 0 | 1 = 1): Promise<boolean> {
    const client = this.client;
    if (!client?.connected) return false;
    try {
      await client.publishAsync(this.topic(suffix), JSON.stringify(payload), { qos });
      this.options.stats.sent += 1;
      return true;
    } catch (error) {
      this.fail(`${this.deviceId}: publish ${suffix} failed: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * Loses the connection without a DISCONNECT (power cut, radio gone): the broker publishes the
   * will, and the device comes back after `backAfterSeconds` (never with 0).
   */
  dropConnection(backAfterSeconds: number): void {
    const client = this.client;
    if (!client) return;
    client.options.reconnectPeriod = 0;
    client.stream.destroy();
    if (backAfterSeconds > 0) {
      this.later(backAfterSeconds * 1000, () => {
        client.options.reconnectPeriod = (this.options.reconnectSeconds ?? 5) * 1000;
        client.reconnect();
      });
    }
  }

  /** Leaves cleanly: `status` offline, then DISCONNECT (so no will is published). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const client = this.client;
    if (!client) return;
    if (client.connected) await this.publish('status', { state: 'offline' });
    await client.endAsync().catch(() => undefined);
    if (this.online) this.options.stats.connected -= 1;
    this.online = false;
  }

  /** A one-shot timer that `stop()` cancels. */
  private later(ms: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, ms);
    this.timers.add(timer);
  }

  private fail(message: string): void {
    this.options.stats.errors += 1;
    this.options.stats.lastError = message;
  }
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
