/**
 * Time to converge, computed in SQL from `device_twin_history` alone (no extra table): for the
 * newest desired version the device converged on, when it was written and when the device first
 * reported a document in sync with it.
 */
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from './store.js';

export type TwinConvergence = {
  desiredVersion: number;
  desiredAt: Date;
  convergedAt: Date;
  seconds: number;
};

/**
 * For each device, the newest desired version it converged on (absent when it never did), in one statement.
 *
 * "In sync" is the rule of `computeSyncStatus` over `computeTwinDelta`, written in SQL: walking
 * desired and reported together (descending only where desired holds a non-empty object), every
 * desired leaf must exist in reported and be equal to it, except that a desired `{}` only needs an
 * object there. Arrays and scalars compare whole (`jsonb =`), as the delta compares them.
 *
 * Candidates are the reported document current when the desired version was written (a device
 * already in sync converges at once, in 0 seconds) and every later report, up to the next
 * desired write: after that the device was chasing a newer version. Desired versions are scanned
 * newest first through the (tenant, device, direction, version) unique index and the scan stops
 * at the first that converged.
 */
export async function lastConvergences(session: TenantSession, tenantId: string, deviceIds: readonly string[]): Promise<Map<string, TwinConvergence>> {
  const rows = await session.db.$queryRaw<Array<{ deviceId: string; desiredVersion: number; desiredAt: Date; convergedAt: Date }>>`
    SELECT k.device_id AS "deviceId", x.* FROM unnest(${deviceIds as string[]}::text[]) AS k(device_id)
    CROSS JOIN LATERAL (
    SELECT d.version AS "desiredVersion", d.created_at AS "desiredAt", c.converged_at AS "convergedAt"
    FROM device_twin_history d
    CROSS JOIN LATERAL (
      SELECT greatest(r.created_at, d.created_at) AS converged_at
      FROM device_twin_history r
      WHERE r.tenant_id = d.tenant_id AND r.device_id = d.device_id AND r.direction = 'reported'
        AND r.version >= coalesce((
          SELECT max(p.version) FROM device_twin_history p
          WHERE p.tenant_id = d.tenant_id AND p.device_id = d.device_id AND p.direction = 'reported'
            AND p.created_at <= d.created_at), 0)
        AND r.created_at < coalesce((
          SELECT min(n.created_at) FROM device_twin_history n
          WHERE n.tenant_id = d.tenant_id AND n.device_id = d.device_id AND n.direction = 'desired'
            AND n.version > d.version), 'infinity')
        AND NOT EXISTS (
          WITH RECURSIVE walk (want, have) AS (
            SELECT d.document, r.document
            UNION ALL
            SELECT member.value, walk.have -> member.key
            FROM walk CROSS JOIN LATERAL jsonb_each(walk.want) AS member
            WHERE jsonb_typeof(walk.want) = 'object' AND walk.want <> '{}'::jsonb AND jsonb_typeof(walk.have) = 'object'
          )
          SELECT 1 FROM walk
          WHERE have IS NULL
             OR (jsonb_typeof(want) = 'object' AND jsonb_typeof(have) <> 'object')
             OR (jsonb_typeof(want) <> 'object' AND want <> have)
        )
      ORDER BY r.version
      LIMIT 1
    ) c
    WHERE d.tenant_id = ${tenantId} AND d.device_id = k.device_id AND d.direction = 'desired'
    ORDER BY d.version DESC
    LIMIT 1
    ) x`;
  return new Map(
    rows.map(({ deviceId, ...row }) => [deviceId, { ...row, seconds: (row.convergedAt.getTime() - row.desiredAt.getTime()) / 1000 }]),
  );
}

/** One device's {@link lastConvergences}; `null` when it never converged. */
export async function lastConvergence(session: TenantSession, key: DeviceKey): Promise<TwinConvergence | null> {
  return (await lastConvergences(session, key.tenantId, [key.deviceId])).get(key.deviceId) ?? null;
}
