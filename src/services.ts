import type { Config } from './config.js';
import type { Metrics } from './http/metrics.js';

/**
 * What services need beyond their tenant transaction: configuration and the outbound device
 * channel. Passed by plain arguments so a test builds an app on its own database and broker.
 */
export interface DeviceMessenger {
  /**
   * Publishes to a device topic; resolves once the broker accepted it (QoS 1 PUBACK). While the
   * broker is unreachable: by default resolves at once (the message is queued and sent on
   * reconnect); with `whenDisconnected: 'reject'` rejects at once with a BrokerUnavailableError and
   * queues nothing, for a caller whose resolve means "the broker has it" (the command ledger).
   */
  publish(topic: string, payload: unknown, options: { qos: 0 | 1; retain: boolean; whenDisconnected?: 'queue' | 'reject' }): Promise<void>;
}

/**
 * Open device sessions on a broker Pulse runs itself (the embedded one). With an external broker
 * this is a no-op: the broker's own tooling (e.g. Mosquitto's dynamic security) ends sessions.
 */
export interface DeviceSessions {
  /** Ends the device's open sessions, so rotated or revoked credentials take effect now. */
  disconnect(tenantId: string, deviceId: string): void;
}

export interface AppServices {
  config: Config;
  messenger: DeviceMessenger;
  deviceSessions: DeviceSessions;
  /** The platform's and every module's metrics (`metrics[section]`). */
  metrics: Metrics;
}
