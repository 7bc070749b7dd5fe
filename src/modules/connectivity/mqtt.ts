/**
 * MQTT adapters for presence: `status` (online on connect, offline as the will) and `heartbeat`.
 * Server receive time is the clock of presence (a device's clock may be wrong or reset); the
 * device's own timestamp is kept in the event details.
 */
import { applied, defineInboundTopic, duplicate, rejected, type DeviceWill, type IngestOutcome } from '../../mqtt/ingest.js';
import type { InboundMessage } from '../../mqtt/ingest.js';
import { heartbeatPayloadSchema, statusPayloadSchema } from './payloads.js';
import type { PresenceOutcome } from './presence.js';
import { applyStatusChanges, type StatusChange } from './status.js';
import { touchDevices, type Touch } from './touch.js';

function outcomeOf(result: PresenceOutcome): IngestOutcome {
  if (!result.found) return rejected('UNKNOWN_DEVICE');
  // A message of an older session is acknowledged and dropped like a redelivery: it is expected.
  return result.fenced ? duplicate : applied;
}

function statusChange(message: InboundMessage<'status'>): StatusChange {
  const { state, sessionId, ts } = message.payload;
  return {
    key: { tenantId: message.tenantId, deviceId: message.deviceId },
    state,
    sessionId,
    at: message.receivedAt,
    details: { deviceTs: ts, redelivered: message.redelivered || undefined },
  };
}

/** A fleet reconnecting at once sends a status per device: a batch of them is one statement per state. */
export const statusTopic = defineInboundTopic({
  kind: 'status',
  topic: 'status',
  payload: statusPayloadSchema,
  description: '`online` when a session starts (with its sessionId), `offline` as the will (LWT) or on a clean stop',
  // status.ts sends its statements with session.query only.
  sqlOnly: true,
  async handle(session, message) {
    const [result] = await applyStatusChanges(session, [statusChange(message)]);
    return outcomeOf(result!);
  },
  async handleMany(session, messages) {
    const results = await applyStatusChanges(session, messages.map(statusChange));
    return results.map(outcomeOf);
  },
});

function heartbeatTouch(message: InboundMessage<'heartbeat'>): Touch {
  const { ts, uptimeS } = message.payload;
  return {
    key: { tenantId: message.tenantId, deviceId: message.deviceId },
    at: message.receivedAt,
    heartbeat: true,
    details: { deviceTs: ts, uptimeS },
  };
}

/** Heartbeats are the bulk of device traffic: a batch of them is one statement. */
export const heartbeatTopic = defineInboundTopic({
  kind: 'heartbeat',
  topic: 'heartbeat',
  payload: heartbeatPayloadSchema,
  description: 'A sign of life; presence measures the silence between messages',
  // touch.ts sends its statement with session.query only.
  sqlOnly: true,
  async handle(session, message) {
    const [result] = await touchDevices(session, [heartbeatTouch(message)], 'HEARTBEAT');
    return outcomeOf(result!);
  },
  async handleMany(session, messages) {
    const results = await touchDevices(session, messages.map(heartbeatTouch), 'HEARTBEAT');
    return results.map(outcomeOf);
  },
});

/** A device's will is its own offline status: the broker publishes it when the session dies. */
export const offlineStatusWill: DeviceWill<'status'> = {
  kind: 'status',
  topic: 'status',
  payload: statusPayloadSchema,
  accepts: (payload) => payload.state === 'offline',
  description: 'a status with state "offline"',
};
