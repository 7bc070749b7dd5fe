/**
 * Twin convergence for other modules' set-based SQL (the alerts evaluator's "desired change not
 * reported back within"): a relation over `device_state` saying whether each device's reported
 * document is in sync with its desired one. Read-only.
 */
import { Prisma } from '../../generated/prisma/client.js';

/**
 * `(tenant_id, device_id, desired_version, desired_updated_at, in_sync)`. `in_sync` is
 * `pulse_twin_in_sync(desired, reported)`, the rule of `computeSyncStatus` over `computeTwinDelta`
 * in SQL (see its migration); it is computed only for the rows a query keeps, so filter first.
 */
export function twinSyncRelation(): Prisma.Sql {
  return Prisma.sql`(
    SELECT s.tenant_id, s.device_id, s.desired_version, s.desired_updated_at, pulse_twin_in_sync(s.desired_state, s.reported_state) AS in_sync
    FROM device_state s)`;
}
