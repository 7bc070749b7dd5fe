/**
 * Group membership for other modules (group commands, group alert rules, group telemetry): the
 * members of a static group are rows of device_group_members; a dynamic group's are the devices
 * its stored filter matches, resolved in SQL at read time. Both exclude decommissioned devices.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import { NotFoundError } from '../../kernel/errors.js';
import { dynamicMembershipSql } from './dynamic-sql.js';

export interface GroupRecord {
  tenantId: string;
  groupId: string;
  groupType: 'static' | 'dynamic';
  queryFilter: unknown;
}

/** The group, or NotFound (also for another tenant's group: RLS hides it). */
export async function findGroup(session: TenantSession, tenantId: string, groupId: string): Promise<GroupRecord> {
  const group = await session.db.deviceGroup.findUnique({
    where: { tenantId_groupId: { tenantId, groupId } },
    select: { tenantId: true, groupId: true, groupType: true, queryFilter: true },
  });
  if (!group) throw new NotFoundError('DeviceGroup', groupId);
  return group as GroupRecord;
}

/**
 * A SQL condition true for the rows of `device_registry` aliased `d` that are members of `group`
 * (for raw SQL that joins or aggregates over members: `WHERE d.tenant_id = $t AND <condition>`).
 */
export function groupMembershipSql(group: GroupRecord, alias: Prisma.Sql = Prisma.raw('d')): Prisma.Sql {
  if (group.groupType === 'static') {
    return Prisma.sql`EXISTS (SELECT 1 FROM device_group_members m
      WHERE m.tenant_id = ${alias}.tenant_id AND m.group_id = ${group.groupId} AND m.device_id = ${alias}.device_id)`;
  }
  return dynamicMembershipSql(group.queryFilter, alias);
}

/** Every current member's key, in device ID order (sendGroupCommand resolves its targets with this). */
export async function groupMemberKeys(session: TenantSession, tenantId: string, groupId: string): Promise<DeviceKey[]> {
  const group = await findGroup(session, tenantId, groupId);
  const rows = await session.db.$queryRaw<Array<{ device_id: string }>>`
    SELECT d.device_id FROM device_registry d
    WHERE d.tenant_id = ${tenantId} AND d.decommissioned_at IS NULL AND ${groupMembershipSql(group)}
    ORDER BY d.device_id`;
  return rows.map((row) => ({ tenantId, deviceId: row.device_id }));
}
