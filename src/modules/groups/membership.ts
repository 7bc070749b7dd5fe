/**
 * Group membership for other modules (group commands, group alert rules, group telemetry,
 * subscriptions): the members of a static group are rows of device_group_members; a dynamic
 * group's are the devices its stored filter matches, evaluated in SQL at read time, so a device
 * that changed is in or out in the very next read. Both exclude decommissioned devices.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { compileDeviceFilter, loadStoredFilter } from '../devices/filter.js';

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
 * A SQL condition true for the rows of `device_registry` aliased `alias` that are members of
 * `group` (for raw SQL that pages, joins or aggregates over members). `resolving` lists the groups
 * whose filters are being compiled around this one: reaching one of them again is a cycle.
 */
export async function groupMembershipSql(
  session: TenantSession,
  group: GroupRecord,
  alias: Prisma.Sql = Prisma.raw('d'),
  resolving: readonly string[] = [],
): Promise<Prisma.Sql> {
  if (group.groupType === 'static') {
    return Prisma.sql`EXISTS (SELECT 1 FROM device_group_members m
      WHERE m.tenant_id = ${alias}.tenant_id AND m.group_id = ${group.groupId} AND m.device_id = ${alias}.device_id)`;
  }
  if (resolving.includes(group.groupId)) {
    throw ValidationError.single(['queryFilter', 'groupId'], `the filter refers back to group ${group.groupId}`, 'INVALID_VALUE');
  }
  const filter = loadStoredFilter(group.queryFilter, ['queryFilter']);
  const condition = await compileDeviceFilter(filter, { session, tenantId: group.tenantId, device: alias, resolving: [...resolving, group.groupId] });
  return Prisma.sql`(${alias}.decommissioned_at IS NULL AND ${condition})`;
}

/** Every current member's key, in device ID order (sendGroupCommand resolves its targets with this). */
export async function groupMemberKeys(session: TenantSession, tenantId: string, groupId: string): Promise<DeviceKey[]> {
  const group = await findGroup(session, tenantId, groupId);
  const rows = await session.db.$queryRaw<Array<{ device_id: string }>>`
    SELECT d.device_id FROM device_registry d
    WHERE d.tenant_id = ${tenantId} AND d.decommissioned_at IS NULL AND ${await groupMembershipSql(session, group)}
    ORDER BY d.device_id`;
  return rows.map((row) => ({ tenantId, deviceId: row.device_id }));
}

/** Whether one device is a member now: one indexed statement. */
export async function isGroupMember(session: TenantSession, group: GroupRecord, deviceId: string): Promise<boolean> {
  const rows = await session.db.$queryRaw<unknown[]>`
    SELECT 1 FROM device_registry d
    WHERE d.tenant_id = ${group.tenantId} AND d.device_id = ${deviceId} AND d.decommissioned_at IS NULL AND ${await groupMembershipSql(session, group)}`;
  return rows.length > 0;
}
