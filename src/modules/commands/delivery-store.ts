/**
 * SQL of delivery: claiming QUEUED commands for the broker (within each device's in-flight cap),
 * recording the broker's PUBACK, applying device acks, expiring what outlived its TTL, and
 * finding devices whose queue can move. Set-based: one statement per step for a whole batch of
 * devices or acks, guarded so that concurrent instances never move one command twice.
 *
 * Times: `now` null means the database clock; workers pass theirs so tests can inject time.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import type { JsonObject } from '../../kernel/json.js';
import { startsFrom, type CommandKey } from './store.js';
import { TRANSITIONS, type StoredStatus } from './status.js';
import { TRANSITION_COLUMNS, type TransitionRow } from './transitions.js';

const at = (now: Date | null) => Prisma.sql`COALESCE(${now}::timestamptz, now())`;
const keyColumns = (keys: readonly DeviceKey[]) =>
  Prisma.sql`unnest(${keys.map((k) => k.tenantId)}::text[], ${keys.map((k) => k.deviceId)}::text[])`;
const commandColumns = (keys: readonly CommandKey[]) =>
  Prisma.sql`unnest(${keys.map((k) => k.tenantId)}::text[], ${keys.map((k) => k.commandId)}::text[])`;

/** In flight: handed to the broker and not acked, within TTL, or held by a publisher right now. */
const inFlight = (now: Date | null) =>
  Prisma.sql`((b.status = 'sent' AND b.expires_at > ${at(now)}) OR (b.status = 'queued' AND b.claimed_until > ${at(now)}))`;

/**
 * Serialises dispatch per device for the rest of the transaction (advisory locks, in one global
 * order so that two dispatchers can never deadlock). Its own statement: the claim that follows
 * must take its snapshot after the lock, or it could miss a claim committed while it waited.
 */
export async function lockDevicesForDispatch(session: TenantSession, keys: readonly DeviceKey[]): Promise<void> {
  await session.db.$queryRaw`
    SELECT count(pg_advisory_xact_lock(k)) FROM (
      SELECT DISTINCT hashtextextended('pulse.commands/' || tenant_id || '/' || device_id, 0) AS k
      FROM ${keyColumns(keys)} AS u(tenant_id, device_id)
      ORDER BY k) ordered`;
}

export interface ClaimedCommand {
  tenant_id: string;
  device_id: string;
  command_id: string;
  command_type: string;
  command_params: JsonObject;
  expires_at: Date;
  seq: bigint;
}

/**
 * Claims, for each ONLINE active device of `keys`, its oldest claimable QUEUED commands within TTL
 * up to `maxInFlight` minus what it has in flight, with a publishing lease. Call it after
 * {@link lockDevicesForDispatch} for the same keys. Returned in creation order.
 */
export async function claimForDispatch(
  session: TenantSession,
  keys: readonly DeviceKey[],
  options: { maxInFlight: number; leaseSeconds: number; now: Date | null },
): Promise<ClaimedCommand[]> {
  const now = at(options.now);
  const rows = await session.db.$queryRaw<ClaimedCommand[]>`
    WITH devices AS (
      SELECT DISTINCT u.tenant_id, u.device_id FROM ${keyColumns(keys)} AS u(tenant_id, device_id)
      JOIN device_state s ON s.tenant_id = u.tenant_id AND s.device_id = u.device_id AND s.status = 'ONLINE'
      JOIN device_registry r ON r.tenant_id = u.tenant_id AND r.device_id = u.device_id AND r.decommissioned_at IS NULL
    ),
    busy AS (
      SELECT b.tenant_id, b.device_id, count(*)::int AS n
      FROM device_commands b JOIN devices v ON v.tenant_id = b.tenant_id AND v.device_id = b.device_id
      WHERE b.status IN ('queued', 'sent') AND ${inFlight(options.now)}
      GROUP BY b.tenant_id, b.device_id
    ),
    ranked AS (
      SELECT q.tenant_id, q.command_id, COALESCE(busy.n, 0) AS busy,
             row_number() OVER (PARTITION BY q.tenant_id, q.device_id ORDER BY q.seq) AS position
      FROM device_commands q
      JOIN devices v ON v.tenant_id = q.tenant_id AND v.device_id = q.device_id
      LEFT JOIN busy ON busy.tenant_id = q.tenant_id AND busy.device_id = q.device_id
      WHERE q.status = 'queued' AND q.expires_at > ${now} AND (q.claimed_until IS NULL OR q.claimed_until <= ${now})
    ),
    picked AS (
      SELECT c.tenant_id, c.command_id FROM device_commands c
      JOIN ranked r ON r.tenant_id = c.tenant_id AND r.command_id = c.command_id
      WHERE r.position <= ${options.maxInFlight}::int - r.busy
      FOR UPDATE OF c SKIP LOCKED
    )
    UPDATE device_commands c
    SET claimed_until = ${now} + ${options.leaseSeconds}::int * interval '1 second', published_at = ${now}, attempts = c.attempts + 1
    FROM picked p
    WHERE c.tenant_id = p.tenant_id AND c.command_id = p.command_id AND c.status = 'queued'
    RETURNING c.tenant_id, c.device_id, c.command_id, c.command_type, c.command_params, c.expires_at, c.seq`;
  return rows.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
}

/**
 * QUEUED → SENT for commands the broker acknowledged. A command an ack has already moved on (the
 * device answered before the PUBACK was recorded) is left as it is.
 */
export async function markSent(session: TenantSession, keys: readonly CommandKey[]): Promise<TransitionRow[]> {
  if (keys.length === 0) return [];
  return session.db.$queryRaw<TransitionRow[]>`
    UPDATE device_commands c SET status = ${TRANSITIONS.send.to}, sent_at = now(), claimed_until = NULL, status_changed_at = now()
    FROM ${commandColumns(keys)} AS u(tenant_id, command_id)
    WHERE c.tenant_id = u.tenant_id AND c.command_id = u.command_id AND ${startsFrom(TRANSITIONS.send.from)}
    RETURNING ${TRANSITIONS.send.from[0]}::text AS previous_status, ${TRANSITION_COLUMNS}`;
}

/** Gives up the lease of commands whose hand-over failed: they are claimable again at once. */
export async function releaseClaims(session: TenantSession, keys: readonly CommandKey[]): Promise<void> {
  if (keys.length === 0) return;
  await session.db.$executeRaw`
    UPDATE device_commands c SET claimed_until = NULL
    FROM ${commandColumns(keys)} AS u(tenant_id, command_id)
    WHERE c.tenant_id = u.tenant_id AND c.command_id = u.command_id AND c.status = 'queued'`;
}

export interface Ack {
  tenantId: string;
  deviceId: string;
  commandId: string;
  verdict: 'delivered' | 'failed';
  /** The ack payload as received. */
  details: JsonObject;
  error: string | null;
}

/** What one ack found (`found_status` null: no such command of that device) and what it moved; in input order. */
export interface AckRow {
  command_id: string;
  found_status: StoredStatus | null;
  handed: boolean | null;
  live: boolean | null;
  transition: TransitionRow | null;
}

type RawAckRow = Omit<AckRow, 'transition'> & { moved: boolean } & Partial<TransitionRow>;

/**
 * Applies acks (distinct commands) in one statement: a command still QUEUED-and-handed-over or
 * SENT, within its TTL, moves to DELIVERED or FAILED with the ack kept; anything else is left
 * alone and reported for counting. Rows are locked in key order, so concurrent batches cannot
 * deadlock, and re-checked after the lock, so an ack and the worker never both move one command.
 */
export async function applyAcks(session: TenantSession, acks: readonly Ack[]): Promise<AckRow[]> {
  const column = <T>(pick: (ack: Ack) => T) => acks.map(pick);
  const deliver = TRANSITIONS.deliver;
  const rows = await session.db.$queryRaw<RawAckRow[]>`
    WITH input AS (
      SELECT * FROM unnest(${column((a) => a.tenantId)}::text[], ${column((a) => a.deviceId)}::text[], ${column((a) => a.commandId)}::text[],
                           ${column((a) => a.verdict)}::text[], ${column((a) => JSON.stringify(a.details))}::text[]::jsonb[],
                           ${column((a) => a.error)}::text[])
        WITH ORDINALITY AS i(tenant_id, device_id, command_id, verdict, details, error, ord)
    ),
    cur AS (
      SELECT c.tenant_id, c.command_id, c.status, c.published_at IS NOT NULL AS handed, c.expires_at > now() AS live
      FROM device_commands c JOIN input i ON i.tenant_id = c.tenant_id AND i.device_id = c.device_id AND i.command_id = c.command_id
      ORDER BY c.tenant_id, c.command_id
      FOR UPDATE OF c
    ),
    updated AS (
      UPDATE device_commands c SET
        status = CASE WHEN i.verdict = 'delivered' THEN ${deliver.to} ELSE ${TRANSITIONS.fail.to} END,
        acked_at = now(), ack_details = i.details, error = i.error,
        delivered_at = CASE WHEN i.verdict = 'delivered' THEN now() END,
        failed_at = CASE WHEN i.verdict = 'delivered' THEN NULL ELSE now() END,
        sent_at = COALESCE(c.sent_at, now()), claimed_until = NULL, status_changed_at = now()
      FROM cur k JOIN input i ON i.tenant_id = k.tenant_id AND i.command_id = k.command_id
      WHERE c.tenant_id = k.tenant_id AND c.command_id = k.command_id AND k.live
        AND ${startsFrom(deliver.from, Prisma.raw('k.status'))} AND (k.status <> 'queued' OR k.handed)
      RETURNING k.status AS previous_status, ${TRANSITION_COLUMNS}
    )
    SELECT i.command_id, k.status AS found_status, k.handed, k.live, u.command_id IS NOT NULL AS moved,
           u.tenant_id, u.device_id, u.batch_id, u.previous_status, u.status, u.status_changed_at
    FROM input i
    LEFT JOIN cur k ON k.tenant_id = i.tenant_id AND k.command_id = i.command_id
    LEFT JOIN updated u ON u.tenant_id = i.tenant_id AND u.command_id = i.command_id
    ORDER BY i.ord`;
  return rows.map((row) => ({
    command_id: row.command_id,
    found_status: row.found_status,
    handed: row.handed,
    live: row.live,
    transition: row.moved
      ? {
          tenant_id: row.tenant_id!,
          device_id: row.device_id!,
          command_id: row.command_id,
          batch_id: row.batch_id ?? null,
          previous_status: row.previous_status ?? null,
          status: row.status!,
          status_changed_at: row.status_changed_at!,
        }
      : null,
  }));
}

/**
 * QUEUED past its TTL → EXPIRED (unless a publisher holds it right now: its PUBACK decides), SENT
 * past its TTL → MISSED; at most `limit` rows, oldest expiry first, through the partial index on
 * expires_at. SKIP LOCKED: with several instances each row is taken by exactly one.
 */
export async function expireDue(session: TenantSession, now: Date | null, limit: number): Promise<TransitionRow[]> {
  const time = at(now);
  return session.db.$queryRaw<TransitionRow[]>`
    WITH due AS (
      SELECT tenant_id, command_id, status FROM device_commands
      WHERE status IN ('queued', 'sent') AND expires_at <= ${time}
        AND (status = 'sent' OR claimed_until IS NULL OR claimed_until <= ${time})
      ORDER BY expires_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE device_commands c
    SET status = CASE WHEN d.status = 'queued' THEN ${TRANSITIONS.expire.to} ELSE ${TRANSITIONS.miss.to} END,
        claimed_until = NULL, status_changed_at = ${time}
    FROM due d
    WHERE c.tenant_id = d.tenant_id AND c.command_id = d.command_id AND c.status = d.status
      AND (${startsFrom(TRANSITIONS.expire.from, Prisma.raw('d.status'))} OR ${startsFrom(TRANSITIONS.miss.from, Prisma.raw('d.status'))})
    RETURNING d.status AS previous_status, ${TRANSITION_COLUMNS}`;
}

/**
 * ONLINE devices with a claimable QUEUED command within TTL and a free in-flight slot, in key
 * order after `after`: the sweep that catches what a lost reaction (a crash) did not dispatch.
 */
export async function devicesReadyToDispatch(
  session: TenantSession,
  options: { now: Date | null; maxInFlight: number; limit: number; after: DeviceKey | null },
): Promise<DeviceKey[]> {
  const now = at(options.now);
  const after = options.after ?? { tenantId: '', deviceId: '' };
  const rows = await session.db.$queryRaw<Array<{ tenant_id: string; device_id: string }>>`
    WITH queued AS (
      SELECT DISTINCT q.tenant_id, q.device_id FROM device_commands q
      WHERE q.status = 'queued' AND q.expires_at > ${now} AND (q.claimed_until IS NULL OR q.claimed_until <= ${now})
        AND (q.tenant_id, q.device_id) > (${after.tenantId}, ${after.deviceId})
    )
    SELECT q.tenant_id, q.device_id FROM queued q
    JOIN device_state s ON s.tenant_id = q.tenant_id AND s.device_id = q.device_id AND s.status = 'ONLINE'
    WHERE (SELECT count(*) FROM device_commands b
           WHERE b.tenant_id = q.tenant_id AND b.device_id = q.device_id AND b.status IN ('queued', 'sent') AND ${inFlight(options.now)})
          < ${options.maxInFlight}::int
    ORDER BY q.tenant_id, q.device_id
    LIMIT ${options.limit}`;
  return rows.map((row) => ({ tenantId: row.tenant_id, deviceId: row.device_id }));
}
