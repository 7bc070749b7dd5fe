/**
 * Presence timeouts: how long a device may stay silent before it is STALE, then OFFLINE. A
 * device's own override (device_state) wins over its tenant's default (tenants.settings.presence),
 * which wins over the server's configuration (PRESENCE_*_AFTER_SECONDS).
 */
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';
import { checkViolationConstraint } from '../../kernel/sql-errors.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { ensureTenant, requireWriter } from '../tenants/service.js';

export interface PresenceTimeouts {
  staleAfterSeconds: number;
  offlineAfterSeconds: number;
}

/** A tenant setting, used only when it is a positive JSON number (settings are free-form JSON). */
function tenantSetting(name: 'staleAfterSeconds' | 'offlineAfterSeconds'): Prisma.Sql {
  const path = Prisma.raw(`'{presence,${name}}'`);
  return Prisma.sql`CASE WHEN jsonb_typeof(tn.settings #> ${path}) = 'number' AND (tn.settings #>> ${path})::numeric >= 1
    THEN (tn.settings #>> ${path})::numeric END`;
}

/**
 * A LATERAL join giving `t.stale_after` and `t.offline_after` (seconds) for the row aliased `s`
 * (device_state) with its tenant aliased `tn`. OFFLINE never comes before STALE, whatever mix of
 * levels the two values came from.
 */
export function effectiveTimeoutsJoin(defaults: PresenceTimeouts): Prisma.Sql {
  return Prisma.sql`CROSS JOIN LATERAL (
    SELECT st.stale_after,
           GREATEST(COALESCE(s.offline_after_seconds, ${tenantSetting('offlineAfterSeconds')}, ${defaults.offlineAfterSeconds}::numeric), st.stale_after) AS offline_after
    FROM (SELECT COALESCE(s.stale_after_seconds, ${tenantSetting('staleAfterSeconds')}, ${defaults.staleAfterSeconds}::numeric) AS stale_after) st
  ) t`;
}

const MAX_TIMEOUT_SECONDS = 30 * 24 * 3600;
const seconds = z.number().int().min(1, 'must be at least 1 second').max(MAX_TIMEOUT_SECONDS, 'must be at most 30 days');

export const presenceTimeoutsInputSchema = z
  .object({
    deviceId: idSchema.nullish(),
    staleAfterSeconds: seconds.nullish(),
    offlineAfterSeconds: seconds.nullish(),
  })
  .refine((input) => input.staleAfterSeconds == null || input.offlineAfterSeconds == null || input.offlineAfterSeconds > input.staleAfterSeconds, {
    path: ['offlineAfterSeconds'],
    message: 'must be greater than staleAfterSeconds',
  });

const orderIssue = () => ValidationError.single(['input', 'offlineAfterSeconds'], 'must be greater than staleAfterSeconds', 'OUT_OF_ORDER');

/**
 * Sets presence timeouts for one device (`deviceId`) or, without it, the tenant's defaults.
 * Omitted values stay as they are, `null` clears one (falling back to the next level).
 * Returns the timeouts now in effect for that device or tenant.
 */
export async function setPresenceTimeouts(session: TenantSession, rawInput: unknown, defaults: PresenceTimeouts): Promise<PresenceTimeouts> {
  const input = parseInput(presenceTimeoutsInputSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const set = (value: number | null | undefined, current: Prisma.Sql) => (value === undefined ? current : Prisma.sql`${value}::int`);
  if (input.deviceId) {
    const deviceId = input.deviceId;
    let updated: number;
    try {
      updated = await session.db.$executeRaw`
        UPDATE device_state s SET
          stale_after_seconds = ${set(input.staleAfterSeconds, Prisma.sql`s.stale_after_seconds`)},
          offline_after_seconds = ${set(input.offlineAfterSeconds, Prisma.sql`s.offline_after_seconds`)}
        FROM device_registry d
        WHERE s.tenant_id = ${tenantId} AND s.device_id = ${deviceId}
          AND d.tenant_id = s.tenant_id AND d.device_id = s.device_id AND d.decommissioned_at IS NULL`;
    } catch (error) {
      // The other level may already hold a value the new one contradicts (device_state_presence_order).
      if (checkViolationConstraint(error) === 'device_state_presence_order') throw orderIssue();
      throw error;
    }
    if (updated === 0) throw new NotFoundError('Device', deviceId);
  } else {
    await ensureTenant(session, tenantId);
    const patch: Record<string, number> = {};
    const cleared: string[] = [];
    for (const name of ['staleAfterSeconds', 'offlineAfterSeconds'] as const) {
      const value = input[name];
      if (value === null) cleared.push(name);
      else if (value !== undefined) patch[name] = value;
    }
    // One statement: merge, and refuse (no row) when the merged pair is out of order.
    const rows = await session.db.$queryRaw<Array<{ tenant_id: string }>>`
      UPDATE tenants tn SET settings = jsonb_set(tn.settings, '{presence}', m.merged)
      FROM (
        SELECT (CASE WHEN jsonb_typeof(settings -> 'presence') = 'object' THEN settings -> 'presence' ELSE '{}'::jsonb END
                || ${JSON.stringify(patch)}::jsonb) - ${cleared}::text[] AS merged
        FROM tenants WHERE tenant_id = ${tenantId}
      ) m
      WHERE tn.tenant_id = ${tenantId}
        AND CASE WHEN jsonb_typeof(m.merged -> 'staleAfterSeconds') = 'number' AND jsonb_typeof(m.merged -> 'offlineAfterSeconds') = 'number'
                 THEN (m.merged ->> 'offlineAfterSeconds')::numeric > (m.merged ->> 'staleAfterSeconds')::numeric
                 ELSE true END
      RETURNING tn.tenant_id`;
    if (rows.length === 0) throw orderIssue();
  }
  return effectivePresenceTimeouts(session, { tenantId, deviceId: input.deviceId ?? null }, defaults);
}

/** The timeouts in effect for a device, or for a tenant's devices without overrides. */
export async function effectivePresenceTimeouts(
  session: TenantSession,
  key: { tenantId: string; deviceId: string | null },
  defaults: PresenceTimeouts,
): Promise<PresenceTimeouts> {
  const [row] = await session.db.$queryRaw<Array<{ stale_after: number; offline_after: number }>>`
    SELECT t.stale_after::float8 AS stale_after, t.offline_after::float8 AS offline_after
    FROM (SELECT ${key.tenantId}::text AS tenant_id) k
    LEFT JOIN tenants tn ON tn.tenant_id = k.tenant_id
    LEFT JOIN device_state s ON s.tenant_id = k.tenant_id AND s.device_id = ${key.deviceId}::text
    ${effectiveTimeoutsJoin(defaults)}`;
  return {
    staleAfterSeconds: row?.stale_after ?? defaults.staleAfterSeconds,
    offlineAfterSeconds: row?.offline_after ?? defaults.offlineAfterSeconds,
  };
}
