import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { PresenceStatus } from '../../kernel/presence.js';

export type { PresenceStatus };

/**
 * Why a device's presence changed, as stored in `device_connection_events.reason`. The type of
 * the event follows from the new status (CONNECTED exactly when it is ONLINE, a database check).
 */
export type TransitionReason =
  | 'MQTT_CONNECT'
  | 'MQTT_RECONNECT'
  | 'LWT'
  | 'HEARTBEAT'
  | 'DEVICE_MESSAGE'
  | 'STALE'
  | 'HEARTBEAT_TIMEOUT'
  | 'NETWORK_ATTACH'
  | 'NETWORK_DETACH';

/** One appended connectivity event, as every transition statement returns it. */
export interface TransitionRow {
  /** bigserial, as text: the same through Prisma and through `session.query`. */
  id: string;
  tenant_id: string;
  device_id: string;
  event_type: 'CONNECTED' | 'DISCONNECTED';
  reason: string;
  previous_status: PresenceStatus | null;
  new_status: PresenceStatus;
  session_id: string | null;
  occurred_at: Date;
}

/** The columns a transition statement's final `RETURNING` lists, matching {@link TransitionRow}. */
export const TRANSITION_COLUMNS = Prisma.raw(
  'id::text AS id, tenant_id, device_id, event_type, reason, previous_status, new_status, session_id, occurred_at',
);

/**
 * Queues `deviceConnectivityChanged` for each appended event; the session delivers them only
 * after its transaction commits, so a subscriber never sees a transition that was rolled back.
 */
export function publishTransitions(session: TenantSession, rows: readonly TransitionRow[]): void {
  for (const row of rows) {
    session.publish('deviceConnectivityChanged', {
      tenantId: row.tenant_id,
      deviceId: row.device_id,
      eventId: row.id,
      previousStatus: row.previous_status,
      status: row.new_status,
      reason: row.reason,
      occurredAt: row.occurred_at.toISOString(),
    });
  }
}

/** JSON text for a `details` column: undefined members are dropped, dates become ISO strings. */
export function detailsJson(details: Record<string, unknown>): string {
  return JSON.stringify(details);
}
