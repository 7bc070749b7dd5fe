/**
 * `pulse/{tenant}/{device}/twin/reported`: a device reports its state. An adapter from the
 * validated message to the twin service; it runs in the bridge's batch transaction (service role),
 * so the device is addressed by the topic's tenant and device, never by a session tenant.
 */
import { applied, defineInboundTopic, duplicate, rejected, type OutboundTopic } from '../../mqtt/ingest.js';
import { touchDevice } from '../connectivity/touch.js';
import type { JsonObject } from './json.js';
import { twinReportedPayloadSchema } from './payloads.js';
import { recordReportedTwin } from './service.js';

export const twinReportedTopic = defineInboundTopic({
  kind: 'twinReported',
  topic: 'twin/reported',
  payload: twinReportedPayloadSchema,
  description: "The device's reported state, merged (RFC 7396) or replacing; applied once, never after a newer report",
  async handle(session, message, services) {
    const outcome = await recordReportedTwin(session, services, { tenantId: message.tenantId, deviceId: message.deviceId }, {
      // The codec validated it as a JSON object; the twin limits are checked on the stored result.
      state: message.payload.state as JsonObject,
      mode: message.payload.mode,
      seq: message.payload.seq,
    });
    if (outcome.status === 'rejected') return rejected(outcome.reason);
    // Any message from a device is a sign of life: presence measures silence, not heartbeats only.
    await touchDevice(session, { key: { tenantId: message.tenantId, deviceId: message.deviceId }, at: message.receivedAt });
    return outcome.status === 'applied' ? applied : duplicate;
  },
});

/** Server → device: the full desired document, retained (see desired-channel.ts). */
export const twinDesiredTopic: OutboundTopic = {
  kind: 'twinDesired',
  topic: 'twin/desired',
  qos: 1,
  retain: true,
  description: 'The full desired document with its version, retained: a device gets the latest whenever it subscribes',
};
