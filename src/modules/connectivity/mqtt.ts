/**
 * MQTT adapters for presence: `status` (online on connect, offline as the will) and `heartbeat`.
 * Server receive time is the clock of presence (a device's clock may be wrong or reset); the
 * device's own timestamp is kept in the event details.
 */
import { applied, defineInboundTopic, duplicate, rejected, type DeviceWill, type IngestOutcome } from '../../mqtt/ingest.js';
import type { InboundMessage } from '../../mqtt/ingest.js';
import { heartbeatPayloadSchema, statusPayloadSchema } from './payloads.js';
import { markOffline, markOnline, type PresenceOutcome } from './presence.js';
import { touchDevices, type Touch } from './touch.js';

function outcomeOf(result: PresenceOutcome): IngestOutcome {
  if (!result.found) return rejected('UNKNOWN_DEVICE');
  // A message of an older session is acknowledged and dropped like a redelivery: it is expected.
  return result.fenced ? duplicate : applied;
}

export const statusTopic = defineInboundTopic({
  kind: 'status',
  topic: 'status',
  payload: statusPayloadSchema,
  description: '`online` when a session starts (with its sessionId), `offline` as the will (LWT) or on a clean stop',
  async handle(session, message) {
    const key = { tenantId: message.tenantId, deviceId: message.deviceId };
    const { state, sessionId, ts } = message.payload;
    const details = { deviceTs: ts, redelivered: message.redelivered || undefined };
    const result =
      state === 'online'
        ? await markOnline(session, key, { sessionId, at: message.receivedAt, details })
        : await markOffline(session, key, { sessionId, at: message.receivedAt, details });
    return outcomeOf(result);
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
