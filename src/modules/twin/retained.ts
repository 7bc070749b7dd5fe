/**
 * The retained `twin/desired` messages as the database says they should be: one per device with
 * a desired document, exactly as desired-channel.ts publishes it after a write. The embedded
 * broker keeps retained messages in memory only, so at its start they are restored from here (the
 * database is the truth); a device that connects after a restart gets its latest desired state.
 */
import type { TenantSession } from '../../db/tenant-session.js';
import { deviceTopic } from '../../mqtt/topics.js';
import type { DesiredStateMessage } from './desired-channel.js';
import { documentOf } from './view.js';

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
}

/**
 * Every active device's desired document with its version, in one statement. Run it in a service
 * scope (it spans tenants); decommissioned devices get nothing (they may not log in anyway).
 */
export async function retainedDesiredMessages(session: TenantSession): Promise<RetainedMessage[]> {
  const rows = await session.db.$queryRaw<Array<{ tenantId: string; deviceId: string; desired: unknown; version: number; updatedAt: Date | null }>>`
    SELECT s.tenant_id AS "tenantId", s.device_id AS "deviceId", s.desired_state AS "desired",
           s.desired_version AS "version", s.desired_updated_at AS "updatedAt"
    FROM device_state s
    JOIN device_registry d ON d.tenant_id = s.tenant_id AND d.device_id = s.device_id
    WHERE s.desired_version > 0 AND d.decommissioned_at IS NULL`;
  return rows.map((row) => {
    const message: DesiredStateMessage = { version: row.version, state: documentOf(row.desired), ts: (row.updatedAt ?? new Date(0)).toISOString() };
    return { topic: deviceTopic(row.tenantId, row.deviceId, 'twin/desired'), payload: Buffer.from(JSON.stringify(message)) };
  });
}
