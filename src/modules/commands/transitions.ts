/**
 * What every transition statement returns, and the one place that turns those rows into events
 * and metrics: a subscriber or a reaction sees a transition only after its transaction committed
 * (the session delivers queued events after commit), and every committed transition is seen.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { CommandMetrics } from './metrics.js';
import { fromStored, type StoredStatus } from './status.js';
import './events.js';

export interface TransitionRow {
  tenant_id: string;
  device_id: string;
  command_id: string;
  batch_id: string | null;
  /** Null for a creation. */
  previous_status: StoredStatus | null;
  status: StoredStatus;
  status_changed_at: Date;
}

/** The columns of `c` (device_commands) a transition statement returns, after `previous_status`. */
export const TRANSITION_COLUMNS = Prisma.raw('c.tenant_id, c.device_id, c.command_id, c.batch_id, c.status, c.status_changed_at');

/** Queues `commandStatusChanged` for each row and counts it. */
export function publishTransitions(session: TenantSession, metrics: CommandMetrics, rows: readonly TransitionRow[]): void {
  for (const row of rows) {
    const status = fromStored(row.status);
    metrics.transitions.inc({ status });
    session.publish('commandStatusChanged', {
      tenantId: row.tenant_id,
      deviceId: row.device_id,
      commandId: row.command_id,
      batchId: row.batch_id,
      previousStatus: row.previous_status === null ? null : fromStored(row.previous_status),
      status,
      occurredAt: row.status_changed_at.toISOString(),
    });
  }
}
