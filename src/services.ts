import type { Config } from './config.js';

/**
 * What services need beyond their tenant transaction: configuration and the outbound device
 * channel. Passed by plain arguments so a test builds an app on its own database and broker.
 */
export interface DeviceMessenger {
  /** Publishes to a device topic; resolves once the broker accepted it (QoS 1 PUBACK). */
  publish(topic: string, payload: unknown, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
}

export interface AppServices {
  config: Pick<Config, 'twin' | 'presence'>;
  messenger: DeviceMessenger;
}
