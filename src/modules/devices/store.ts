/** SQL of device lists: a page of keys chosen by a compiled filter, then the rows for a selection. */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';

/** Pothos' page arguments for a `tenantId_deviceId` cursor (take < 0 pages backwards). */
export interface KeyPage {
  take?: number;
  skip?: number;
  cursor?: DeviceKey;
}

/**
 * The keys of one page of the devices matching `condition` (over `device_registry d`), in
 * (tenant, device) order: one bounded statement, whatever the number of matches. After a cursor
 * the page starts strictly after it, so a cursor whose device changed or left still pages on.
 */
export async function pageDeviceKeys(session: TenantSession, condition: Prisma.Sql, page: KeyPage): Promise<DeviceKey[]> {
  const take = page.take ?? 50;
  const backwards = take < 0;
  const skip = Math.max(0, (page.skip ?? 0) - (page.cursor ? 1 : 0));
  const after = page.cursor
    ? backwards
      ? Prisma.sql`AND (d.tenant_id, d.device_id) < (${page.cursor.tenantId}, ${page.cursor.deviceId})`
      : Prisma.sql`AND (d.tenant_id, d.device_id) > (${page.cursor.tenantId}, ${page.cursor.deviceId})`
    : Prisma.empty;
  const rows = await session.db.$queryRaw<Array<{ tenant_id: string; device_id: string }>>`
    SELECT d.tenant_id, d.device_id FROM device_registry d
    WHERE ${condition} ${after}
    ORDER BY d.tenant_id ${backwards ? Prisma.sql`DESC` : Prisma.empty}, d.device_id ${backwards ? Prisma.sql`DESC` : Prisma.empty}
    OFFSET ${skip} LIMIT ${Math.abs(take)}`;
  const keys = rows.map((row) => ({ tenantId: row.tenant_id, deviceId: row.device_id }));
  return backwards ? keys.reverse() : keys;
}

export async function countDevices(session: TenantSession, condition: Prisma.Sql): Promise<number> {
  const [row] = await session.db.$queryRaw<Array<{ count: number }>>`SELECT count(*)::int AS count FROM device_registry d WHERE ${condition}`;
  return row?.count ?? 0;
}

/** `where` for exactly these keys, grouped by tenant (one `IN` list per tenant). */
export function keysWhere(keys: readonly DeviceKey[]): Prisma.DeviceWhereInput {
  const byTenant = new Map<string, string[]>();
  for (const key of keys) byTenant.set(key.tenantId, [...(byTenant.get(key.tenantId) ?? []), key.deviceId]);
  const clauses = [...byTenant].map(([tenantId, deviceIds]) => ({ tenantId, deviceId: { in: deviceIds } }));
  return clauses.length === 1 ? clauses[0]! : { OR: clauses };
}

/** Puts rows back in the order of the keys that chose them. */
export function inKeyOrder<T extends DeviceKey>(keys: readonly DeviceKey[], rows: readonly T[]): T[] {
  const byKey = new Map(rows.map((row) => [`${row.tenantId}/${row.deviceId}`, row]));
  return keys.flatMap((key) => {
    const row = byKey.get(`${key.tenantId}/${key.deviceId}`);
    return row ? [row] : [];
  });
}
