import { deviceTopic } from '../../src/mqtt/topics.js';
import { pulseModules } from '../../src/modules/index.js';
import { composeModules } from '../../src/platform/compose.js';

/** The topic table the server runs with (every module's topics). */
export const topics = composeModules(pulseModules).topics;

/** Concrete device topics, as a device (or the server) would publish them. */
export const buildTopic = {
  status: (tenantId: string, deviceId: string) => deviceTopic(tenantId, deviceId, 'status'),
  heartbeat: (tenantId: string, deviceId: string) => deviceTopic(tenantId, deviceId, 'heartbeat'),
  telemetry: (tenantId: string, deviceId: string) => deviceTopic(tenantId, deviceId, 'telemetry'),
  twinReported: (tenantId: string, deviceId: string) => deviceTopic(tenantId, deviceId, 'twin/reported'),
  twinDesired: (tenantId: string, deviceId: string) => deviceTopic(tenantId, deviceId, 'twin/desired'),
  command: (tenantId: string, deviceId: string, commandId: string) => deviceTopic(tenantId, deviceId, 'commands/{commandId}', { commandId }),
  commandAck: (tenantId: string, deviceId: string, commandId: string) =>
    deviceTopic(tenantId, deviceId, 'commands/{commandId}/ack', { commandId }),
  wirelessRegistrations: (tenantId: string, deviceId: string) => deviceTopic(tenantId, deviceId, 'wireless/registrations'),
};
