/**
 * Twin convergence for other modules' set-based SQL (the alerts evaluator's "desired change not
 * reported back within"): a relation over `device_state` saying whether each device's reported
 * document is in sync with its desired one. Read-only.
 */
import { Prisma } from '../../generated/prisma/client.js';

/**
 * `(tenant_id, device_id, desired_version, desired_updated_at, in_sync)`. `in_sync` is the rule of
 * `computeSyncStatus` over `computeTwinDelta` written in SQL (as in convergence.ts): walking desired
 * and reported together, descending only where desired holds a non-empty object, every desired
 * leaf exists in reported and equals it (a desired `{}` only needs an object there). Paths only
 * in reported do not count. Computed only for the rows a query keeps, so filter first.
 */
export function twinSyncRelation(): Prisma.Sql {
  return Prisma.sql`(
    SELECT s.tenant_id, s.device_id, s.desired_version, s.desired_updated_at,
           NOT EXISTS (
             WITH RECURSIVE walk (want, have) AS (
               SELECT s.desired_state, s.reported_state
               UNION ALL
               SELECT member.value, walk.have -> member.key
               FROM walk CROSS JOIN LATERAL jsonb_each(walk.want) AS member
               WHERE jsonb_typeof(walk.want) = 'object' AND walk.want <> '{}'::jsonb AND jsonb_typeof(walk.have) = 'object'
             )
             SELECT 1 FROM walk
             WHERE have IS NULL
                OR (jsonb_typeof(want) = 'object' AND jsonb_typeof(have) <> 'object')
                OR (jsonb_typeof(want) <> 'object' AND want <> have)
           ) AS in_sync
    FROM device_state s)`;
}
