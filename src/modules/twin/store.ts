/**
 * The twin's SQL: every statement that reads or writes `device_state`'s twin columns and
 * `device_twin_history`. Rows are addressed by tenant and device explicitly, so the same
 * statements serve customer sessions (RLS pins the tenant) and the MQTT service role.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceStatus } from './delta.js';
import type { JsonObject, JsonValue } from './json.js';
import { documentOf } from './view.js';

export type DeviceKey = { tenantId: string; deviceId: string };
export type TwinDirection = 'desired' | 'reported';
export type TwinWriteMode = 'merge' | 'replace';
export type TwinActor = { type: 'user' | 'device' | 'service'; id: string | null };

/** One device's twin as stored, plus the transaction's clock (`now()`) for metadata timestamps. */
export type TwinRow = {
  desired: JsonObject;
  desiredVersion: number;
  desiredMetadata: JsonValue;
  reported: JsonObject;
  reportedVersion: number;
  reportedMetadata: JsonValue;
  /** The highest report `seq` applied, `null` before the device sent one (docs/device-protocol.md). */
  reportedSeq: number | null;
  status: DeviceStatus;
  decommissioned: boolean;
  now: Date;
};

/** What a twin UPDATE returns: the new version and the state the event and delta are built from. */
export type TwinWrite = {
  version: number;
  updatedAt: Date;
  desired: JsonObject;
  desiredVersion: number;
  reported: JsonObject;
  reportedVersion: number;
  status: DeviceStatus;
};

/**
 * The twin of one device, `null` when the caller cannot see it. With `lock`, the state row is
 * locked (`FOR UPDATE OF s`) until the transaction ends, so the caller's write cannot lose a race.
 */
export async function readTwin(session: TenantSession, key: DeviceKey, options: { lock: boolean }): Promise<TwinRow | null> {
  // On the transaction's connection, past Prisma's client (the hot path of every twin write).
  const rows = await session.query<Omit<TwinRow, 'desired' | 'reported'> & { desired: unknown; reported: unknown }>(Prisma.sql`
    SELECT s.desired_state AS "desired", s.desired_version AS "desiredVersion", s.desired_metadata AS "desiredMetadata",
           s.reported_state AS "reported", s.reported_version AS "reportedVersion", s.reported_metadata AS "reportedMetadata",
           s.reported_seq::float8 AS "reportedSeq",
           s.status, d.decommissioned_at IS NOT NULL AS "decommissioned", now() AS "now"
    FROM device_state s
    JOIN device_registry d ON d.tenant_id = s.tenant_id AND d.device_id = s.device_id
    WHERE s.tenant_id = ${key.tenantId} AND s.device_id = ${key.deviceId}
    ${options.lock ? Prisma.sql`FOR UPDATE OF s` : Prisma.empty}`);
  const row = rows[0];
  return row ? { ...row, desired: documentOf(row.desired), reported: documentOf(row.reported) } : null;
}

const RETURNING_TWIN = Prisma.sql`
  RETURNING desired_state AS "desired", desired_version AS "desiredVersion", reported_state AS "reported",
            reported_version AS "reportedVersion", status`;

type ReturnedTwin = Omit<TwinWrite, 'version' | 'desired' | 'reported'> & { desired: unknown; reported: unknown };

function toWrite(row: ReturnedTwin | undefined, direction: TwinDirection): TwinWrite | null {
  if (!row) return null;
  const twin = { ...row, desired: documentOf(row.desired), reported: documentOf(row.reported) };
  return { ...twin, version: direction === 'desired' ? row.desiredVersion : row.reportedVersion };
}

/** The columns of one side of the twin; fixed identifiers, never input. */
const SIDE_COLUMNS = {
  desired: { state: Prisma.raw('desired_state'), metadata: Prisma.raw('desired_metadata'), version: Prisma.raw('desired_version'), updatedAt: Prisma.raw('desired_updated_at') },
  reported: { state: Prisma.raw('reported_state'), metadata: Prisma.raw('reported_metadata'), version: Prisma.raw('reported_version'), updatedAt: Prisma.raw('reported_updated_at') },
} as const;

/** How an accepted write is recorded in `device_twin_history`, beside the new document. */
export type TwinHistoryRecord = {
  /** The merge patch the write amounts to (a REPLACE is recorded as its diff). */
  patch: JsonValue;
  mode: TwinWriteMode;
  actor: TwinActor;
};

/**
 * Stores one side's document if, and only if, its stored version is still `baseVersion`, and
 * appends the write to the history: one statement (a data-modifying CTE), so the check, the
 * write and its history row are atomic and cost one round trip. Returns `null` when another
 * writer got there first (then no history row either). Every accepted write moves the version
 * by exactly one; the history's unique (direction, version) key rejects a second writer of one.
 */
export async function writeTwinIfVersion(
  session: TenantSession,
  direction: TwinDirection,
  key: DeviceKey,
  baseVersion: number,
  document: JsonObject,
  metadata: JsonValue,
  history: TwinHistoryRecord,
  /** A reported write's `seq`, stored with it (reports only). */
  reportedSeq?: number,
): Promise<TwinWrite | null> {
  const side = SIDE_COLUMNS[direction];
  const seq = direction === 'reported' && reportedSeq !== undefined ? Prisma.sql`, reported_seq = ${reportedSeq}` : Prisma.empty;
  const rows = await session.query<ReturnedTwin>(Prisma.sql`
    WITH written AS (
      UPDATE device_state
      SET ${side.state} = ${JSON.stringify(document)}::jsonb, ${side.metadata} = ${JSON.stringify(metadata)}::jsonb,
          ${side.version} = ${side.version} + 1, ${side.updatedAt} = now(), shadow_updated_at = now()${seq}
      WHERE tenant_id = ${key.tenantId} AND device_id = ${key.deviceId} AND ${side.version} = ${baseVersion}
      ${RETURNING_TWIN}, ${side.updatedAt} AS "updatedAt", ${side.state} AS "document"
    ), recorded AS (
      INSERT INTO device_twin_history (tenant_id, device_id, direction, version, patch, document, mode, actor_type, actor_id)
      SELECT ${key.tenantId}, ${key.deviceId}, ${direction}, ${direction === 'desired' ? Prisma.sql`"desiredVersion"` : Prisma.sql`"reportedVersion"`},
             ${JSON.stringify(history.patch)}::jsonb, "document", ${history.mode}, ${history.actor.type}, ${history.actor.id}
      FROM written
    )
    SELECT "desired", "desiredVersion", "reported", "reportedVersion", status, "updatedAt" FROM written`);
  return toWrite(rows[0], direction);
}

/**
 * Records `seq` as the device's latest report when it is above the stored one, for a report that
 * changed nothing: an older report redelivered after it must still count as superseded.
 */
export async function advanceReportedSeq(session: TenantSession, key: DeviceKey, seq: number): Promise<void> {
  await session.db.$executeRaw`
    UPDATE device_state SET reported_seq = ${seq}
    WHERE tenant_id = ${key.tenantId} AND device_id = ${key.deviceId} AND (reported_seq IS NULL OR reported_seq < ${seq})`;
}

/** A desired write read back from history, for conflict detection. */
export type DesiredHistoryRow = { version: number; patch: JsonValue; document: JsonObject };

/** Desired writes with `from <= version <= to`, oldest first. */
export async function desiredHistoryBetween(session: TenantSession, key: DeviceKey, from: number, to: number): Promise<DesiredHistoryRow[]> {
  const rows = await session.db.deviceTwinHistory.findMany({
    where: { ...key, direction: 'desired', version: { gte: from, lte: to } },
    orderBy: { version: 'asc' },
    select: { version: true, patch: true, document: true },
  });
  return rows.map((row) => ({ version: row.version, patch: row.patch as JsonValue, document: documentOf(row.document) }));
}
