/** SQL of device groups: rows, static members, and the dynamic-membership snapshot events diff against. */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';

export interface GroupKey {
  tenantId: string;
  groupId: string;
}

export interface NewGroup {
  tenantId: string;
  name: string;
  description: string | null;
  groupType: 'static' | 'dynamic';
  queryFilter: Prisma.InputJsonValue | null;
  filterAspects: string[];
}

export async function insertGroup(session: TenantSession, group: NewGroup): Promise<GroupKey> {
  const row = await session.db.deviceGroup.create({
    data: { ...group, queryFilter: group.queryFilter ?? Prisma.DbNull },
    select: { tenantId: true, groupId: true },
  });
  return row;
}

export async function updateGroupRow(
  session: TenantSession,
  key: GroupKey,
  changes: { name?: string; description?: string | null; queryFilter?: Prisma.InputJsonValue; filterAspects?: string[] },
): Promise<boolean> {
  const result = await session.db.deviceGroup.updateMany({ where: key, data: changes });
  return result.count === 1;
}

export async function deleteGroupRow(session: TenantSession, key: GroupKey): Promise<boolean> {
  const result = await session.db.deviceGroup.deleteMany({ where: key });
  return result.count === 1;
}

export type MemberOutcome = 'ADDED' | 'ALREADY_MEMBER' | 'REMOVED' | 'NOT_MEMBER' | 'NOT_FOUND';

/**
 * Adds the active devices among `deviceIds` to a static group in one statement and says per ID
 * what happened. An ID of another tenant's device is NOT_FOUND, exactly like one that never existed.
 */
export async function addStaticMembers(session: TenantSession, key: GroupKey, deviceIds: readonly string[]) {
  return session.db.$queryRaw<Array<{ device_id: string; outcome: MemberOutcome }>>`
    WITH wanted AS (SELECT DISTINCT unnest(${deviceIds as string[]}::text[]) AS device_id),
    known AS (
      SELECT d.device_id FROM device_registry d JOIN wanted w ON w.device_id = d.device_id
      WHERE d.tenant_id = ${key.tenantId} AND d.decommissioned_at IS NULL
    ),
    inserted AS (
      INSERT INTO device_group_members (tenant_id, group_id, device_id)
      SELECT ${key.tenantId}, ${key.groupId}, device_id FROM known
      ON CONFLICT DO NOTHING
      RETURNING device_id
    )
    SELECT w.device_id,
           CASE WHEN i.device_id IS NOT NULL THEN 'ADDED' WHEN k.device_id IS NOT NULL THEN 'ALREADY_MEMBER' ELSE 'NOT_FOUND' END AS outcome
    FROM wanted w LEFT JOIN known k ON k.device_id = w.device_id LEFT JOIN inserted i ON i.device_id = w.device_id`;
}

/** Removes `deviceIds` from a static group in one statement, per ID REMOVED, NOT_MEMBER or NOT_FOUND. */
export async function removeStaticMembers(session: TenantSession, key: GroupKey, deviceIds: readonly string[]) {
  return session.db.$queryRaw<Array<{ device_id: string; outcome: MemberOutcome }>>`
    WITH wanted AS (SELECT DISTINCT unnest(${deviceIds as string[]}::text[]) AS device_id),
    deleted AS (
      DELETE FROM device_group_members m USING wanted w
      WHERE m.tenant_id = ${key.tenantId} AND m.group_id = ${key.groupId} AND m.device_id = w.device_id
      RETURNING m.device_id
    )
    SELECT w.device_id,
           CASE WHEN x.device_id IS NOT NULL THEN 'REMOVED'
                WHEN EXISTS (SELECT 1 FROM device_registry d WHERE d.tenant_id = ${key.tenantId} AND d.device_id = w.device_id) THEN 'NOT_MEMBER'
                ELSE 'NOT_FOUND' END AS outcome
    FROM wanted w LEFT JOIN deleted x ON x.device_id = w.device_id`;
}

/**
 * Re-evaluates a whole dynamic group against its snapshot: inserts the devices that match now and
 * were not in it, deletes those that no longer match. Returns who joined and who left.
 */
export async function refreshGroupSnapshot(session: TenantSession, key: GroupKey, membership: Prisma.Sql) {
  const rows = await session.db.$queryRaw<Array<{ device_id: string; change: 'JOINED' | 'LEFT' }>>`
    WITH now_members AS (
      SELECT d.device_id FROM device_registry d WHERE d.tenant_id = ${key.tenantId} AND ${membership}
    ),
    joined AS (
      INSERT INTO device_group_dynamic_members (tenant_id, group_id, device_id)
      SELECT ${key.tenantId}, ${key.groupId}, device_id FROM now_members
      ON CONFLICT DO NOTHING
      RETURNING device_id
    ),
    left_group AS (
      DELETE FROM device_group_dynamic_members s
      WHERE s.tenant_id = ${key.tenantId} AND s.group_id = ${key.groupId}
        AND NOT EXISTS (SELECT 1 FROM now_members n WHERE n.device_id = s.device_id)
      RETURNING s.device_id
    )
    SELECT device_id, 'JOINED' AS change FROM joined
    UNION ALL
    SELECT device_id, 'LEFT' FROM left_group`;
  return rows;
}

/**
 * Moves the snapshot rows of the `deviceIds` (for the `evaluated` groups) to `memberships`, the
 * (device, group) pairs that match now, in one statement. INSERT … ON CONFLICT and DELETE …
 * RETURNING: when two evaluations of one device race, each change is reported by exactly one.
 */
export async function applyDevicesSnapshot(
  session: TenantSession,
  tenantId: string,
  deviceIds: readonly string[],
  evaluated: readonly string[],
  memberships: ReadonlyArray<{ device_id: string; group_id: string }>,
) {
  return session.db.$queryRaw<Array<{ device_id: string; group_id: string; change: 'JOINED' | 'LEFT' }>>`
    WITH now_members AS (
      SELECT * FROM unnest(${memberships.map((row) => row.device_id)}::text[], ${memberships.map((row) => row.group_id)}::text[]) AS m(device_id, group_id)
    ),
    joined AS (
      INSERT INTO device_group_dynamic_members (tenant_id, group_id, device_id)
      SELECT ${tenantId}, group_id, device_id FROM now_members
      ON CONFLICT DO NOTHING
      RETURNING device_id, group_id
    ),
    left_group AS (
      DELETE FROM device_group_dynamic_members s
      WHERE s.tenant_id = ${tenantId} AND s.device_id = ANY(${deviceIds as string[]}::text[]) AND s.group_id = ANY(${evaluated as string[]}::text[])
        AND NOT EXISTS (SELECT 1 FROM now_members n WHERE n.device_id = s.device_id AND n.group_id = s.group_id)
      RETURNING s.device_id, s.group_id
    )
    SELECT device_id, group_id, 'JOINED' AS change FROM joined
    UNION ALL
    SELECT device_id, group_id, 'LEFT' FROM left_group`;
}

/** The dynamic groups of a tenant whose filters look at any of `aspects` ('all': every one of them). */
export async function dynamicGroupsWatching(session: TenantSession, tenantId: string, aspects: readonly string[] | 'all') {
  return session.db.deviceGroup.findMany({
    where: { tenantId, groupType: 'dynamic', ...(aspects !== 'all' && { filterAspects: { hasSome: [...aspects] } }) },
    select: { tenantId: true, groupId: true, groupType: true, queryFilter: true },
    orderBy: { groupId: 'asc' },
  });
}

/** Which of `conditions` (group ID → membership SQL over `d`) each of `deviceIds` satisfies: one statement. */
export async function groupsMatchingDevices(session: TenantSession, tenantId: string, deviceIds: readonly string[], conditions: ReadonlyMap<string, Prisma.Sql>) {
  if (conditions.size === 0 || deviceIds.length === 0) return [];
  const cases = [...conditions].map(([groupId, condition]) => Prisma.sql`CASE WHEN ${condition} THEN ${groupId}::text END`);
  return session.db.$queryRaw<Array<{ device_id: string; group_id: string }>>`
    SELECT d.device_id, g AS group_id FROM device_registry d CROSS JOIN LATERAL unnest(ARRAY[${Prisma.join(cases)}]) AS g
    WHERE d.tenant_id = ${tenantId} AND d.device_id = ANY(${deviceIds as string[]}::text[]) AND g IS NOT NULL`;
}

/** For a page of devices: each device's groups, static and dynamic, in one statement. */
export async function groupsOfDevices(session: TenantSession, tenantId: string, deviceIds: readonly string[], dynamic: ReadonlyMap<string, Prisma.Sql>) {
  const cases = [...dynamic].map(([groupId, condition]) => Prisma.sql`CASE WHEN ${condition} THEN ${groupId}::text END`);
  const dynamicPart =
    cases.length === 0
      ? Prisma.empty
      : Prisma.sql`UNION
        SELECT d.device_id, g FROM device_registry d CROSS JOIN LATERAL unnest(ARRAY[${Prisma.join(cases)}]) AS g
        WHERE d.tenant_id = ${tenantId} AND d.device_id = ANY(${deviceIds as string[]}::text[]) AND g IS NOT NULL`;
  return session.db.$queryRaw<Array<{ device_id: string; group_id: string }>>`
    SELECT m.device_id, m.group_id FROM device_group_members m
    WHERE m.tenant_id = ${tenantId} AND m.device_id = ANY(${deviceIds as string[]}::text[])
    ${dynamicPart}`;
}
