/**
 * MQTT adapters for presence: `status` (online on connect, offline as the will) and `heartbeat`.
 * Server receive time is the clock of presence (a device's clock may be wrong or reset); the
 * device's own timestamp is kept in the event details.
 */
import { applied, defineHandler, duplicate, rejected, type IngestOutcome } from '../../mqtt/ingest.js';
import { markOffline, markOnline, touchDevice, type PresenceOutcome } from './presence.js';

function outcomeOf(result: PresenceOutcome): IngestOutcome {
  if (!result.found) return rejected('UNKNOWN_DEVICE');
  // A message of an older session is acknowledged and dropped like a redelivery: it is expected.
  return result.fenced ? duplicate : applied;
}

export const statusHandler = defineHandler({
  kind: 'status',
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

export const heartbeatHandler = defineHandler({
  kind: 'heartbeat',
  async handle(session, message) {
    const key = { tenantId: message.tenantId, deviceId: message.deviceId };
    const { ts, uptimeS } = message.payload;
    const result = await touchDevice(session, key, message.receivedAt, {
      heartbeat: true,
      reason: 'HEARTBEAT',
      details: { deviceTs: ts, uptimeS },
    });
    return outcomeOf(result);
  },
});
