/**
 * Presence driven by what devices say (status, heartbeats, any other message). Each change is one
 * SQL statement: it locks the device's state row, decides, updates it and appends the event, so
 * concurrent writers (several API instances, the evaluator) can never log a transition twice.
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
  const rows = await session.db.$queryRaw<Row[]>(statement);
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
 * An `online` status. A session ID different from the current one starts a new session (a
 * reconnect while ONLINE is logged too, as MQTT_RECONNECT), unless that ID already has events
 * and is not current: then it is an older session's message arriving late and changes nothing.
 */
export async function markOnline(
  session: TenantSession,
  key: DeviceKey,
  message: { sessionId?: string; at: Date; details?: Record<string, unknown> },
): Promise<PresenceOutcome> {
  const sessionId = message.sessionId ?? null;
  const at = message.at;
  return run(
    session,
    Prisma.sql`
      WITH ${currentState(key)},
      decision AS (
        SELECT c.*,
          (${sessionId}::text IS NOT NULL AND c.session_id IS DISTINCT FROM ${sessionId}::text) AS new_session,
          (${sessionId}::text IS NOT NULL AND c.session_id IS DISTINCT FROM ${sessionId}::text AND EXISTS (
            SELECT 1 FROM device_connection_events e
            WHERE e.tenant_id = c.tenant_id AND e.device_id = c.device_id AND e.session_id = ${sessionId}::text
          )) AS fenced
        FROM cur c
      ),
      updated AS (
        UPDATE device_state s SET
          status = 'ONLINE',
          last_seen_at = GREATEST(s.last_seen_at, ${at}::timestamptz),
          status_changed_at = CASE WHEN d.status = 'ONLINE' THEN s.status_changed_at ELSE GREATEST(s.status_changed_at, ${at}::timestamptz) END,
          session_id = CASE WHEN d.new_session THEN ${sessionId}::text ELSE s.session_id END,
          session_started_at = CASE WHEN d.new_session THEN ${at}::timestamptz ELSE s.session_started_at END
        FROM decision d
        WHERE s.tenant_id = d.tenant_id AND s.device_id = d.device_id AND NOT d.fenced
        RETURNING s.tenant_id, s.device_id, d.status AS previous_status, s.status AS new_status, s.session_id,
                  GREATEST(s.status_changed_at, ${at}::timestamptz) AS occurred_at,
                  d.new_session
      ),
      ${appendEvent(
        Prisma.sql`CASE WHEN previous_status = 'ONLINE' THEN 'MQTT_RECONNECT' ELSE 'MQTT_CONNECT' END`,
        Prisma.sql`previous_status <> 'ONLINE' OR new_session`,
        message.details ?? {},
      )}
      ${FINAL_SELECT}`,
  );
}

/**
 * An `offline` status: the device's will (LWT) or its own goodbye; the payload cannot tell them
 * apart, so both are logged as LWT. Fenced: an offline naming a session other than the current
 * one belongs to an older connection (the device has reconnected since) and changes nothing.
 * Without a session ID it cannot be fenced and applies. It is not a sign of life, so
 * `last_seen_at` stays.
 */
export async function markOffline(
  session: TenantSession,
  key: DeviceKey,
  message: { sessionId?: string; at: Date; details?: Record<string, unknown> },
): Promise<PresenceOutcome> {
  const sessionId = message.sessionId ?? null;
  return run(
    session,
    Prisma.sql`
      WITH ${currentState(key)},
      decision AS (
        SELECT c.*, (${sessionId}::text IS NOT NULL AND c.session_id IS NOT NULL AND c.session_id <> ${sessionId}::text) AS fenced
        FROM cur c
      ),
      updated AS (
        UPDATE device_state s SET status = 'OFFLINE', status_changed_at = GREATEST(s.status_changed_at, ${message.at}::timestamptz)
        FROM decision d
        WHERE s.tenant_id = d.tenant_id AND s.device_id = d.device_id AND NOT d.fenced AND d.status <> 'OFFLINE'
        RETURNING s.tenant_id, s.device_id, d.status AS previous_status, s.status AS new_status, s.session_id, s.status_changed_at AS occurred_at
      ),
      ${appendEvent(Prisma.sql`${'LWT'}`, Prisma.sql`true`, message.details ?? {})}
      ${FINAL_SELECT}`,
  );
}

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
