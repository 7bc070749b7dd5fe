import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import type { DeviceMessenger } from '../services.js';
import { holdAcksUntilCommitted } from './ack-after-commit.js';

export interface ServiceClientOptions {
  url: string;
  username?: string;
  password?: string;
  /** Stable across restarts, so the broker keeps the persistent session and its queued QoS 1 messages. */
  clientId: string;
  /** Aedes speaks MQTT 3.1.1 (4); Mosquitto, EMQX and HiveMQ take 5. */
  protocolVersion: 4 | 5;
}

/**
 * The server's own MQTT connection: a persistent session (clean = false) that reconnects by
 * itself. Ingest subscriptions are added by the bridge; outbound publishes go through `messenger`.
 */
export async function connectServiceClient(options: ServiceClientOptions, logger: Logger): Promise<MqttClient> {
  const client = mqtt.connect(options.url, {
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    protocolVersion: options.protocolVersion,
    clean: false,
    ...(options.protocolVersion === 5 && { properties: { sessionExpiryInterval: 3600 } }),
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    // Ack only after the effect is committed: the bridge acknowledges explicitly.
    manualConnect: false,
    // mqtt.js logs through `debug` a dozen times per packet; even disabled, each call allocates
    // its arguments (a measurable share of ingest). Kept when DEBUG asks for any logging.
    ...(!process.env['DEBUG'] && { log: () => undefined }),
  });
  // Before the first packet can arrive (the socket connects on a later tick): the session's queued
  // messages come right after CONNACK, and must wait for the bridge rather than be acked unseen.
  holdAcksUntilCommitted(client);
  await firstConnection(client);
  const log = logger.child({ module: 'mqtt' });
  client.on('reconnect', () => log.warn('reconnecting to MQTT broker'));
  client.on('offline', () => log.warn('MQTT broker connection lost'));
  client.on('connect', () => log.info('connected to MQTT broker'));
  client.on('error', (error) => log.error({ err: error }, 'MQTT client error'));
  return client;
}

/** Resolves on the first CONNACK; rejects (and ends the client) on an error before it, as mqtt.connectAsync does. */
function firstConnection(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      client.off('connect', onConnect);
      client.off('error', onError);
      if (error) {
        client.end(true);
        reject(error);
      } else {
        resolve();
      }
    };
    const onConnect = () => settle();
    const onError = (error: Error) => settle(error);
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}

/** A publish refused because the broker is unreachable right now (nothing was queued). */
export class BrokerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerUnavailableError';
  }
}

/** Outbound device messages over the service connection (taken at publish time: it starts later). */
export function mqttMessenger(currentClient: () => MqttClient | undefined): DeviceMessenger {
  return {
    async publish(topic, payload, options) {
      const client = currentClient();
      if (!client) throw new BrokerUnavailableError('MQTT connection is not started');
      // A caller that records "the broker accepted it" must not be told so while disconnected.
      if (!client.connected && options.whenDisconnected === 'reject') throw new BrokerUnavailableError(`not connected to the broker: ${topic} not sent`);
      const publishing = client.publishAsync(topic, JSON.stringify(payload), { qos: options.qos, retain: options.retain });
      // While the broker is unreachable mqtt.js keeps a QoS 1 message queued and sends it on
      // reconnect; waiting for its PUBACK would hold the caller for the whole outage.
      if (!client.connected && options.qos === 1) {
        publishing.catch(() => undefined);
        return;
      }
      await publishing;
    },
  };
}
