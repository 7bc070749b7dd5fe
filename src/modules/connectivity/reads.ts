/**
 * Presence for other modules' set-based SQL (the alerts evaluator's "offline for longer than"):
 * a relation over `device_state` with the presence columns only, to join as
 * `JOIN ${presenceRelation()} p ON p.tenant_id = … AND p.device_id = …`. Read-only; presence
 * itself is written by this module alone.
 */
import { Prisma } from '../../generated/prisma/client.js';

/**
 * `(tenant_id, device_id, status, status_changed_at, last_seen_at)` of every device with a state
 * row. `status_changed_at` is when the device entered `status` (for OFFLINE: since when it is offline).
 */
export function presenceRelation(): Prisma.Sql {
  return Prisma.sql`(SELECT tenant_id, device_id, status, status_changed_at, last_seen_at FROM device_state)`;
}
