/**
 * Presence driven by what devices say (status in status.ts, heartbeats and any other message in
 * touch.ts, carrier network events here). Each change is one SQL statement: it locks the device's
 * state row, decides, updates it and appends the event, so concurrent writers (several API
 * instances, the evaluator) can never log a transition twice.
 * Statements address rows by tenant and device explicitly: MQTT handlers run with the service role.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import {
  TRANSITION_COLUMNS,
  detailsJson,
  publishTransitions,
  type PresenceStatus,
  type TransitionRow,
} from './transitions.js';

export interface DeviceKey {
  tenantId: string;
  deviceId: string;
}

/** What a presence write found: `found` is false for an unknown or decommissioned device. */
export interface PresenceOutcome {
  found: boolean;
  /** The appended event when the write changed the device's presence (or started a session). */
  transition: TransitionRow | null;
  /** The message was recognised as belonging to an older session and changed nothing. */
  fenced: boolean;
}

type Row = Partial<TransitionRow> & { current_status: PresenceStatus; fenced: boolean };

/** The state row of an active device, locked for the rest of the statement and transaction. */
function currentState(key: DeviceKey): Prisma.Sql {
  return Prisma.sql`
    cur AS (
      SELECT s.tenant_id, s.device_id, s.status, s.session_id, s.last_seen_at, s.status_changed_at
      FROM device_state s
      JOIN device_registry d ON d.tenant_id = s.tenant_id AND d.device_id = s.device_id
      WHERE s.tenant_id = ${key.tenantId} AND s.device_id = ${key.deviceId} AND d.decommissioned_at IS NULL
      FOR UPDATE OF s
    )`;
}

/**
 * Appends the event for every row of `updated` that passes `when`, and returns it. `updated`
 * returns the event's time as `occurred_at`: never before the device's previous status change,
 * so each device's log reads in the order its state changed.
 */
function appendEvent(reason: Prisma.Sql, when: Prisma.Sql, details: Record<string, unknown>): Prisma.Sql {
  return Prisma.sql`
    logged AS (
      INSERT INTO device_connection_events
        (tenant_id, device_id, event_type, reason, previous_status, new_status, session_id, details, occurred_at)
      SELECT tenant_id, device_id, CASE WHEN new_status = 'ONLINE' THEN 'CONNECTED' ELSE 'DISCONNECTED' END,
             ${reason}::text, previous_status, new_status, session_id, ${detailsJson(details)}::jsonb, occurred_at
      FROM updated WHERE ${when}
      RETURNING ${TRANSITION_COLUMNS}
    )`;
}

async function run(session: TenantSession, statement: Prisma.Sql): Promise<PresenceOutcome> {
  const rows = await session.query<Row>(statement);
  const row = rows[0];
  if (!row) return { found: false, transition: null, fenced: false };
  const transition = row.id === undefined || row.id === null ? null : (row as TransitionRow);
  if (transition) publishTransitions(session, [transition]);
  return { found: true, transition, fenced: row.fenced };
}

const FINAL_SELECT = Prisma.sql`
  SELECT c.status AS current_status, COALESCE(d.fenced, false) AS fenced, l.*
  FROM cur c LEFT JOIN decision d ON true LEFT JOIN logged l ON true`;

/**
 * A carrier-reported network attach or detach at `at`, so the log tells a carrier detach from an
 * application that went quiet. A detach applies unless the device was heard from after it, and
 * is logged even when the device is already OFFLINE (it records the cause). An attach brings a
 * device ONLINE unless it already is or its log has a later entry (it went offline after `at`);
 * if the application then stays silent, the evaluator times it out as usual. Carrier reports can
 * be late: the event keeps `at` unless the log already has a later entry.
 */
export async function applyNetworkEvent(
  session: TenantSession,
  key: DeviceKey,
  kind: 'ATTACH' | 'DETACH',
  at: Date,
  details: Record<string, unknown> = {},
): Promise<PresenceOutcome> {
  const attach = kind === 'ATTACH';
  return run(
    session,
    Prisma.sql`
      WITH ${currentState(key)},
      decision AS (
        SELECT c.*, false AS fenced, latest.at AS last_event_at,
          CASE WHEN ${attach}::boolean
            THEN c.status <> 'ONLINE' AND (latest.at IS NULL OR latest.at <= ${at}::timestamptz)
            ELSE c.last_seen_at IS NULL OR c.last_seen_at <= ${at}::timestamptz
          END AS applies
        FROM cur c
        LEFT JOIN LATERAL (
          SELECT max(e.occurred_at) AS at FROM device_connection_events e WHERE e.tenant_id = c.tenant_id AND e.device_id = c.device_id
        ) latest ON true
      ),
      updated AS (
        UPDATE device_state s SET
          status = CASE WHEN ${attach}::boolean THEN 'ONLINE' ELSE 'OFFLINE' END,
          last_seen_at = CASE WHEN ${attach}::boolean THEN GREATEST(s.last_seen_at, ${at}::timestamptz) ELSE s.last_seen_at END,
          status_changed_at = GREATEST(s.status_changed_at, ${at}::timestamptz)
        FROM decision d
        WHERE s.tenant_id = d.tenant_id AND s.device_id = d.device_id AND d.applies
        RETURNING s.tenant_id, s.device_id, d.status AS previous_status, s.status AS new_status, s.session_id,
                  GREATEST(${at}::timestamptz, d.last_event_at) AS occurred_at
      ),
      ${appendEvent(Prisma.sql`${attach ? 'NETWORK_ATTACH' : 'NETWORK_DETACH'}`, Prisma.sql`true`, { ...details, networkEventAt: at })}
      ${FINAL_SELECT}`,
  );
}
