/**
 * Device acks: a batch of them is one guarded statement. A redelivered, late or foreign ack never
 * moves a command backwards or twice; each is counted by what it found.
 */
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import type { JsonObject } from '../../kernel/json.js';
import type { AppServices } from '../../services.js';
import { touchDevices } from '../connectivity/touch.js';
import { applyAcks, type Ack, type AckRow } from './delivery-store.js';
import type { CommandAckPayload } from './payloads.js';
import { classifyAck, type AckOutcome } from './status.js';
import { publishTransitions } from './transitions.js';

export interface AckMessage {
  key: DeviceKey;
  commandId: string;
  payload: CommandAckPayload;
  receivedAt: Date;
}

const idOf = (ack: AckMessage) => `${ack.key.tenantId}/${ack.key.deviceId}/${ack.commandId}`;

function toAck(message: AckMessage): Ack {
  const { status, result, error, ts } = message.payload;
  const details: JsonObject = { status };
  if (result !== undefined) details['result'] = result as JsonObject;
  if (error !== undefined) details['error'] = error;
  if (ts !== undefined) details['ts'] = ts.toISOString();
  return { ...message.key, commandId: message.commandId, verdict: status, details, error: error ?? null };
}

/** What the statement's row says about an ack; the statement is the authority on `applied`. */
function outcomeOf(row: AckRow): AckOutcome {
  if (row.transition) return 'applied';
  const target = row.found_status === null ? null : { status: row.found_status, handedToBroker: row.handed === true, live: row.live === true };
  const outcome = classifyAck(target);
  // Only a race the statement resolved (it re-checks after locking) can leave an applicable ack unmoved.
  return outcome === 'applied' ? 'late' : outcome;
}

/**
 * Applies acks in order and returns one outcome per ack. Within a batch only the first ack of a
 * command can apply; later ones repeat its outcome (`duplicate` when it applied). Every ack is
 * also a sign of life of its device (presence); an ack of no known command from an unknown or
 * decommissioned device is `unknownDevice`.
 */
export async function recordAcks(session: TenantSession, services: AppServices, messages: readonly AckMessage[]): Promise<Array<AckOutcome | 'unknownDevice'>> {
  const metrics = services.metrics.commands;
  const firsts = new Map<string, AckMessage>();
  for (const message of messages) if (!firsts.has(idOf(message))) firsts.set(idOf(message), message);
  const rows = await applyAcks(session, [...firsts.values()].map(toAck));
  publishTransitions(session, metrics, rows.flatMap((row) => (row.transition ? [row.transition] : [])));
  const firstOutcomes = new Map([...firsts.keys()].map((id, index) => [id, outcomeOf(rows[index]!)]));
  const presence = await touchDevices(session, messages.map((message) => ({ key: message.key, at: message.receivedAt })), 'DEVICE_MESSAGE');
  const counted = new Set<string>();
  return messages.map((message, index) => {
    const id = idOf(message);
    const first = firstOutcomes.get(id)!;
    // No such device (or a decommissioned one with no such command): refused as every message of an unknown device is.
    if (first === 'unknown' && !presence[index]!.found) return 'unknownDevice';
    const outcome: AckOutcome = counted.has(id) && first === 'applied' ? 'duplicate' : first;
    counted.add(id);
    metrics.acks.inc({ outcome });
    return outcome;
  });
}
