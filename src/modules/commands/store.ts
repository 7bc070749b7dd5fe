/**
 * SQL of the command ledger's writes from the API: create (one command, or a batch for a group's
 * members in one statement), cancel, and batch counts. Rows are addressed by tenant explicitly,
 * so indexes apply whatever the session's role; every transition is one guarded statement.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import type { JsonObject } from '../../kernel/json.js';
import { TRANSITIONS, type StoredStatus } from './status.js';
import { TRANSITION_COLUMNS, type TransitionRow } from './transitions.js';

/** `status IN (…)` for a transition's starting statuses, from the life-cycle table. */
export function startsFrom(from: readonly StoredStatus[], column = Prisma.raw('c.status')): Prisma.Sql {
  return Prisma.sql`${column} IN (${Prisma.join(from)})`;
}

export interface NewCommand {
  key: DeviceKey;
  commandType: string;
  params: JsonObject;
  ttlSeconds: number;
  idempotencyKey: string | null;
  createdBy: string | null;
}

/** Whose, which: enough to re-read a command through a GraphQL selection. */
export interface CommandKey {
  tenantId: string;
  commandId: string;
}

const expiresIn = (ttlSeconds: number) => Prisma.sql`now() + ${ttlSeconds}::int * interval '1 second'`;

/**
 * Inserts a QUEUED command and returns its creation row, or null when the device already has a
 * command with this idempotency key (ON CONFLICT waits for a concurrent insert of the same key to
 * commit, so the caller's next read finds it).
 */
export async function insertCommand(session: TenantSession, command: NewCommand): Promise<TransitionRow | null> {
  const rows = await session.db.$queryRaw<TransitionRow[]>`
    INSERT INTO device_commands AS c
      (tenant_id, device_id, command_type, command_params, ttl_seconds, expires_at, idempotency_key, created_by)
    VALUES (${command.key.tenantId}, ${command.key.deviceId}, ${command.commandType}, ${JSON.stringify(command.params)}::jsonb,
            ${command.ttlSeconds}::int, ${expiresIn(command.ttlSeconds)}, ${command.idempotencyKey}, ${command.createdBy})
    ON CONFLICT (tenant_id, device_id, idempotency_key) DO NOTHING
    RETURNING NULL::text AS previous_status, ${TRANSITION_COLUMNS}`;
  return rows[0] ?? null;
}

/** The command a device's idempotency key names. */
export async function findByIdempotencyKey(session: TenantSession, key: DeviceKey, idempotencyKey: string): Promise<CommandKey | null> {
  const found = await session.db.deviceCommand.findUnique({
    where: { tenantId_deviceId_idempotencyKey: { ...key, idempotencyKey } },
    select: { tenantId: true, commandId: true },
  });
  return found;
}

export interface NewBatch {
  tenantId: string;
  groupId: string;
  /** The group's members as resolved at send time, in the order their commands are created. */
  deviceIds: readonly string[];
  commandType: string;
  params: JsonObject;
  ttlSeconds: number;
  createdBy: string | null;
}

/** The batch, joined to each created command (all command columns null when the group is empty). */
type BatchRow = { [K in keyof TransitionRow]: TransitionRow[K] | null } & { created_batch_id: string; target_count: number };

/**
 * The batch and one QUEUED command per member, in one statement, so the batch's target count and
 * its commands cannot disagree. A member decommissioned since it was resolved is left out (the
 * count follows), as is any ID listed twice.
 */
export async function insertBatch(session: TenantSession, batch: NewBatch): Promise<{ batchId: string; targetCount: number; created: TransitionRow[] }> {
  const params = JSON.stringify(batch.params);
  const rows = await session.db.$queryRaw<BatchRow[]>`
    WITH members AS MATERIALIZED (
      SELECT d.device_id, min(u.ord) AS ord
      FROM unnest(${batch.deviceIds}::text[]) WITH ORDINALITY AS u(device_id, ord)
      JOIN device_registry d ON d.tenant_id = ${batch.tenantId} AND d.device_id = u.device_id AND d.decommissioned_at IS NULL
      GROUP BY d.device_id
    ),
    b AS (
      INSERT INTO command_batches (tenant_id, group_id, command_type, command_params, ttl_seconds, expires_at, target_count, created_by)
      SELECT ${batch.tenantId}, ${batch.groupId}, ${batch.commandType}, ${params}::jsonb, ${batch.ttlSeconds}::int,
             ${expiresIn(batch.ttlSeconds)}, (SELECT count(*) FROM members), ${batch.createdBy}
      RETURNING batch_id, expires_at, target_count
    ),
    c AS (
      INSERT INTO device_commands AS c
        (tenant_id, device_id, command_type, command_params, ttl_seconds, expires_at, group_id, batch_id, created_by)
      SELECT ${batch.tenantId}, m.device_id, ${batch.commandType}, ${params}::jsonb, ${batch.ttlSeconds}::int,
             b.expires_at, ${batch.groupId}, b.batch_id, ${batch.createdBy}
      FROM members m CROSS JOIN b
      ORDER BY m.ord
      RETURNING NULL::text AS previous_status, ${TRANSITION_COLUMNS}
    )
    SELECT b.batch_id AS created_batch_id, b.target_count, c.* FROM b LEFT JOIN c ON true`;
  const first = rows[0]!;
  const created = rows.filter((row) => row.command_id !== null) as TransitionRow[];
  return { batchId: first.created_batch_id, targetCount: first.target_count, created };
}

/**
 * Cancels a QUEUED command that no publisher holds; null when it was not cancellable (or does
 * not exist for this tenant).
 */
export async function cancelQueued(session: TenantSession, key: CommandKey): Promise<TransitionRow | null> {
  const rows = await session.db.$queryRaw<TransitionRow[]>`
    UPDATE device_commands c SET status = ${TRANSITIONS.cancel.to}, cancelled_at = now(), status_changed_at = now()
    WHERE c.tenant_id = ${key.tenantId} AND c.command_id = ${key.commandId}
      AND ${startsFrom(TRANSITIONS.cancel.from)} AND (c.claimed_until IS NULL OR c.claimed_until <= now())
    RETURNING ${TRANSITIONS.cancel.from[0]}::text AS previous_status, ${TRANSITION_COLUMNS}`;
  return rows[0] ?? null;
}

/** A command's status and whether a publisher holds it right now (for the "not cancellable" answer). */
export async function commandState(session: TenantSession, key: CommandKey): Promise<{ status: StoredStatus; publishing: boolean } | null> {
  const [row] = await session.db.$queryRaw<Array<{ status: StoredStatus; publishing: boolean }>>`
    SELECT status, COALESCE(claimed_until > now(), false) AS publishing
    FROM device_commands WHERE tenant_id = ${key.tenantId} AND command_id = ${key.commandId}`;
  return row ?? null;
}

/** A batch's commands per status (an index-only scan of idx_device_commands_batch). */
export async function batchStatusCounts(session: TenantSession, tenantId: string, batchId: string): Promise<Map<StoredStatus, number>> {
  const rows = await session.db.$queryRaw<Array<{ status: StoredStatus; n: number }>>`
    SELECT status, count(*)::int AS n FROM device_commands
    WHERE tenant_id = ${tenantId} AND batch_id = ${batchId}
    GROUP BY status`;
  return new Map(rows.map((row) => [row.status, row.n]));
}
