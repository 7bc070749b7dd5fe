/**
 * `status` messages (online when a session starts, offline as the will or a clean stop) applied
 * set-based: one statement for the onlines and one for the offlines of many devices, the way
 * touch.ts applies heartbeats. A fleet reconnecting after a broker restart sends a status per
 * device at once; one statement per device would be a round trip each.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey, PresenceOutcome } from './presence.js';
import { TRANSITION_COLUMNS, detailsJson, publishTransitions, type TransitionRow } from './transitions.js';

export interface StatusChange {
  key: DeviceKey;
  state: 'online' | 'offline';
  sessionId?: string;
  /** Server receive time: the clock of presence. */
  at: Date;
  details?: Record<string, unknown>;
}

type Row = { tenant_id: string; device_id: string; fenced: boolean } & Partial<Omit<TransitionRow, 'tenant_id' | 'device_id'>>;

const keyOf = (key: DeviceKey) => `${key.tenantId}/${key.deviceId}`;

/**
 * Applies `changes` with the same effect as one after the other. A device's changes apply in
 * their order, one per round: round n holds every device's n-th change, in at most two statements
 * (its onlines, its offlines), which touch different devices and so commute. Outcomes are in the
 * order of `changes`.
 *
 * An online with a session ID other than the current one starts a new session (a reconnect while
 * ONLINE is logged too, as MQTT_RECONNECT), unless that ID already has events and is not current:
 * then it is an older session's message arriving late, and changes nothing (fenced). An offline
 * naming a session other than the current one is fenced the same way; without a session ID it
 * applies. Both are logged with the reason the payload allows (an offline is logged as LWT: a will
 * and a goodbye look the same). An offline is no sign of life: `last_seen_at` stays.
 */
export async function applyStatusChanges(session: TenantSession, changes: readonly StatusChange[]): Promise<PresenceOutcome[]> {
  const outcomes = new Array<PresenceOutcome>(changes.length);
  const seen = new Map<string, number>();
  const rounds: number[][] = [];
  changes.forEach((change, position) => {
    const key = keyOf(change.key);
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push(position);
  });
  for (const round of rounds) {
    for (const state of ['online', 'offline'] as const) {
      const positions = round.filter((position) => changes[position]!.state === state);
      if (positions.length === 0) continue;
      const subset = positions.map((position) => changes[position]!);
      const rows = await session.query<Row>(state === 'online' ? onlineStatement(subset) : offlineStatement(subset));
      const transitions = rows.filter((row): row is Row & TransitionRow => row.id !== undefined && row.id !== null);
      publishTransitions(session, transitions);
      const byDevice = new Map(rows.map((row) => [keyOf({ tenantId: row.tenant_id, deviceId: row.device_id }), row]));
      positions.forEach((position) => {
        const row = byDevice.get(keyOf(changes[position]!.key));
        const transition = row && row.id !== undefined && row.id !== null ? (row as Row & TransitionRow) : null;
        outcomes[position] = { found: row !== undefined, transition, fenced: row?.fenced ?? false };
      });
    }
  }
  return outcomes;
}

/** The changes as rows, each device's state row locked in key order (concurrent batches cannot deadlock). */
function inputAndLockedState(changes: readonly StatusChange[]): Prisma.Sql {
  const column = <T>(pick: (change: StatusChange) => T) => changes.map(pick);
  return Prisma.sql`
    input AS (
      SELECT * FROM unnest(${column((c) => c.key.tenantId)}::text[], ${column((c) => c.key.deviceId)}::text[],
                           ${column((c) => c.sessionId ?? null)}::text[], ${column((c) => c.at.toISOString())}::text[]::timestamptz[],
                           ${column((c) => detailsJson(c.details ?? {}))}::text[]::jsonb[])
             AS i(tenant_id, device_id, session_id, at, details)
    ),
    cur AS (
      SELECT s.tenant_id, s.device_id, s.status, s.session_id
      FROM device_state s
      JOIN device_registry d ON d.tenant_id = s.tenant_id AND d.device_id = s.device_id
      JOIN input i ON i.tenant_id = s.tenant_id AND i.device_id = s.device_id
      WHERE d.decommissioned_at IS NULL
      ORDER BY s.tenant_id, s.device_id
      FOR UPDATE OF s
    )`;
}

/** `updated` returns the event's time as `occurred_at`: never before the device's previous status change. */
function appendAndReport(reason: Prisma.Sql, when: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    logged AS (
      INSERT INTO device_connection_events
        (tenant_id, device_id, event_type, reason, previous_status, new_status, session_id, details, occurred_at)
      SELECT tenant_id, device_id, CASE WHEN new_status = 'ONLINE' THEN 'CONNECTED' ELSE 'DISCONNECTED' END,
             ${reason}, previous_status, new_status, session_id, details, occurred_at
      FROM updated WHERE ${when}
      RETURNING ${TRANSITION_COLUMNS}
    )
    SELECT d.tenant_id, d.device_id, d.fenced, l.id, l.event_type, l.reason, l.previous_status, l.new_status, l.session_id, l.occurred_at
    FROM decision d LEFT JOIN logged l ON l.tenant_id = d.tenant_id AND l.device_id = d.device_id`;
}

function onlineStatement(changes: readonly StatusChange[]): Prisma.Sql {
  return Prisma.sql`
    WITH ${inputAndLockedState(changes)},
    decision AS (
      SELECT c.tenant_id, c.device_id, c.status, i.at, i.details, i.session_id AS claimed_session,
        (i.session_id IS NOT NULL AND c.session_id IS DISTINCT FROM i.session_id) AS new_session,
        (i.session_id IS NOT NULL AND c.session_id IS DISTINCT FROM i.session_id AND EXISTS (
          SELECT 1 FROM device_connection_events e
          WHERE e.tenant_id = c.tenant_id AND e.device_id = c.device_id AND e.session_id = i.session_id
        )) AS fenced
      FROM cur c JOIN input i ON i.tenant_id = c.tenant_id AND i.device_id = c.device_id
    ),
    updated AS (
      UPDATE device_state s SET
        status = 'ONLINE',
        last_seen_at = GREATEST(s.last_seen_at, d.at),
        status_changed_at = CASE WHEN d.status = 'ONLINE' THEN s.status_changed_at ELSE GREATEST(s.status_changed_at, d.at) END,
        session_id = CASE WHEN d.new_session THEN d.claimed_session ELSE s.session_id END,
        session_started_at = CASE WHEN d.new_session THEN d.at ELSE s.session_started_at END
      FROM decision d
      WHERE s.tenant_id = d.tenant_id AND s.device_id = d.device_id AND NOT d.fenced
      RETURNING s.tenant_id, s.device_id, d.status AS previous_status, s.status AS new_status, s.session_id,
                GREATEST(s.status_changed_at, d.at) AS occurred_at, d.new_session, d.details
    ),
    ${appendAndReport(
      Prisma.sql`CASE WHEN previous_status = 'ONLINE' THEN 'MQTT_RECONNECT' ELSE 'MQTT_CONNECT' END`,
      Prisma.sql`previous_status <> 'ONLINE' OR new_session`,
    )}`;
}

function offlineStatement(changes: readonly StatusChange[]): Prisma.Sql {
  return Prisma.sql`
    WITH ${inputAndLockedState(changes)},
    decision AS (
      SELECT c.tenant_id, c.device_id, c.status, i.at, i.details,
        (i.session_id IS NOT NULL AND c.session_id IS NOT NULL AND c.session_id <> i.session_id) AS fenced
      FROM cur c JOIN input i ON i.tenant_id = c.tenant_id AND i.device_id = c.device_id
    ),
    updated AS (
      UPDATE device_state s SET status = 'OFFLINE', status_changed_at = GREATEST(s.status_changed_at, d.at)
      FROM decision d
      WHERE s.tenant_id = d.tenant_id AND s.device_id = d.device_id AND NOT d.fenced AND d.status <> 'OFFLINE'
      RETURNING s.tenant_id, s.device_id, d.status AS previous_status, s.status AS new_status, s.session_id,
                s.status_changed_at AS occurred_at, d.details
    ),
    ${appendAndReport(Prisma.sql`'LWT'`, Prisma.sql`true`)}`;
}
