/**
 * "Heard from": the presence write every device message makes. Set-based, so the bridge applies
 * a whole batch of heartbeats in one statement; a single message is a batch of one.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey, PresenceOutcome } from './presence.js';
import { TRANSITION_COLUMNS, publishTransitions, type TransitionReason, type TransitionRow } from './transitions.js';

export interface Touch {
  key: DeviceKey;
  at: Date;
  /** A heartbeat also moves `last_heartbeat_at`. */
  heartbeat?: boolean;
  details?: Record<string, unknown>;
}

/** What a batch says about one device: the first and last time it was heard, its latest heartbeat. */
interface DeviceSighting {
  key: DeviceKey;
  firstAt: number;
  lastAt: number;
  heartbeatAt: number | null;
  /** The details of its first message in the batch: the one a transition back to ONLINE is logged at. */
  details: Record<string, unknown> | undefined;
}

/**
 * One entry per device, in order of first appearance, and each touch's entry (by position). Done
 * here rather than with GROUP BY in the statement: a batch of heartbeats from few devices then
 * sends one row per device, not per message.
 */
function summariseByDevice(touches: readonly Touch[]): { devices: DeviceSighting[]; ofTouch: DeviceSighting[] } {
  const byKey = new Map<string, DeviceSighting>();
  const devices: DeviceSighting[] = [];
  const ofTouch = new Array<DeviceSighting>(touches.length);
  touches.forEach((touch, index) => {
    const at = touch.at.getTime();
    const id = sightingKey(touch.key);
    const seen = byKey.get(id);
    if (!seen) {
      const sighting = { key: touch.key, firstAt: at, lastAt: at, heartbeatAt: touch.heartbeat ? at : null, details: touch.details };
      byKey.set(id, sighting);
      devices.push(sighting);
      ofTouch[index] = sighting;
      return;
    }
    ofTouch[index] = seen;
    if (at < seen.firstAt) seen.firstAt = at;
    if (at > seen.lastAt) seen.lastAt = at;
    if (touch.heartbeat && (seen.heartbeatAt === null || at > seen.heartbeatAt)) seen.heartbeatAt = at;
  });
  return { devices, ofTouch };
}

const sightingKey = (key: DeviceKey) => `${key.tenantId}/${key.deviceId}`;

type TouchReason = Extract<TransitionReason, 'HEARTBEAT' | 'DEVICE_MESSAGE'>;
type Row = { tenant_id: string; device_id: string } & Partial<Omit<TransitionRow, 'tenant_id' | 'device_id'>>;

/**
 * Records that devices were heard from: `last_seen_at` moves forward (never back), and a STALE or
 * OFFLINE device comes back ONLINE, logged at the first of its messages (a device the evaluator
 * timed out may still be connected). One statement for all of them: it locks the state rows in
 * key order (so concurrent batches cannot deadlock), updates them, appends the transitions and
 * returns which devices exist. Outcomes are in the order of `touches`.
 */
export async function touchDevices(session: TenantSession, touches: readonly Touch[], reason: TouchReason): Promise<PresenceOutcome[]> {
  if (touches.length === 0) return [];
  const { devices, ofTouch } = summariseByDevice(touches);
  const column = <T>(pick: (device: DeviceSighting) => T) => devices.map(pick);
  const rows = await session.query<Row>(Prisma.sql`
    WITH input AS (
      SELECT * FROM unnest(${column((d) => d.key.tenantId)}::text[], ${column((d) => d.key.deviceId)}::text[],
                           ${column((d) => new Date(d.firstAt).toISOString())}::text[]::timestamptz[],
                           ${column((d) => new Date(d.lastAt).toISOString())}::text[]::timestamptz[],
                           ${column((d) => (d.heartbeatAt === null ? null : new Date(d.heartbeatAt).toISOString()))}::text[]::timestamptz[],
                           ${column((d) => JSON.stringify(d.details ?? {}))}::text[]::jsonb[])
             AS i(tenant_id, device_id, first_at, last_at, heartbeat_at, details)
    ),
    cur AS (
      SELECT s.tenant_id, s.device_id, s.status
      FROM device_state s
      JOIN device_registry d ON d.tenant_id = s.tenant_id AND d.device_id = s.device_id
      JOIN input i ON i.tenant_id = s.tenant_id AND i.device_id = s.device_id
      WHERE d.decommissioned_at IS NULL
      ORDER BY s.tenant_id, s.device_id
      FOR UPDATE OF s
    ),
    updated AS (
      UPDATE device_state s SET
        last_seen_at = GREATEST(s.last_seen_at, i.last_at),
        last_heartbeat_at = CASE WHEN i.heartbeat_at IS NULL THEN s.last_heartbeat_at ELSE GREATEST(s.last_heartbeat_at, i.heartbeat_at) END,
        status = 'ONLINE',
        status_changed_at = CASE WHEN c.status = 'ONLINE' THEN s.status_changed_at ELSE GREATEST(s.status_changed_at, i.first_at) END
      FROM cur c JOIN input i ON i.tenant_id = c.tenant_id AND i.device_id = c.device_id
      WHERE s.tenant_id = c.tenant_id AND s.device_id = c.device_id
      RETURNING s.tenant_id, s.device_id, c.status AS previous_status, s.status AS new_status, s.session_id,
                s.status_changed_at AS occurred_at, i.details
    ),
    logged AS (
      INSERT INTO device_connection_events
        (tenant_id, device_id, event_type, reason, previous_status, new_status, session_id, details, occurred_at)
      SELECT tenant_id, device_id, 'CONNECTED', ${reason}::text, previous_status, new_status, session_id, details, occurred_at
      FROM updated WHERE previous_status <> 'ONLINE'
      RETURNING ${TRANSITION_COLUMNS}
    )
    SELECT u.tenant_id, u.device_id, l.id, l.event_type, l.reason, l.previous_status, l.new_status, l.session_id, l.occurred_at
    FROM updated u LEFT JOIN logged l ON l.tenant_id = u.tenant_id AND l.device_id = u.device_id`);
  const transitions = rows.filter((row): row is TransitionRow => row.id !== undefined && row.id !== null);
  publishTransitions(session, transitions);
  const byDevice = new Map(rows.map((row) => [sightingKey({ tenantId: row.tenant_id, deviceId: row.device_id }), row]));
  // One outcome per device, shared by its touches: a batch allocates per device, not per message.
  const outcomes = new Map<DeviceSighting, PresenceOutcome>();
  for (const device of devices) {
    const row = byDevice.get(sightingKey(device.key));
    const transition = row && row.id !== undefined && row.id !== null ? (row as TransitionRow) : null;
    outcomes.set(device, { found: row !== undefined, transition, fenced: false });
  }
  return ofTouch.map((device) => outcomes.get(device)!);
}

/** {@link touchDevices} for one message; other modules call it for every device message they apply. */
export async function touchDevice(session: TenantSession, touch: Touch, reason: TouchReason = 'DEVICE_MESSAGE'): Promise<PresenceOutcome> {
  const [outcome] = await touchDevices(session, [touch], reason);
  return outcome!;
}
