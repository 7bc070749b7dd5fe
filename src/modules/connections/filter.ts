import type { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { CONNECTION_TYPES, NETWORK_STATUSES, SIM_STATUSES } from './inputs.js';

/** The connection fields a device list can be filtered by (see DeviceFilter). */
export interface ConnectionFilter {
  carrier?: string | null;
  connectionType?: ReadonlyArray<(typeof CONNECTION_TYPES)[number]> | null;
  simStatus?: ReadonlyArray<(typeof SIM_STATUSES)[number]> | null;
  networkStatus?: ReadonlyArray<(typeof NETWORK_STATUSES)[number]> | null;
  overDataLimit?: boolean | null;
}

/**
 * Connections whose usage is above their limit. Prisma cannot compare two columns in a `where`
 * (and a field reference must have the same type: data_used_mb is NUMERIC, data_limit_mb INT),
 * so the comparison runs here in SQL and the list filters by connection id.
 */
async function overLimitConnectionIds(session: TenantSession, tenantId: string | undefined): Promise<number[]> {
  const rows = await session.db.$queryRaw<Array<{ id: number }>>`
    SELECT id FROM device_connections
    WHERE (${tenantId ?? null}::text IS NULL OR tenant_id = ${tenantId ?? null}::text)
      AND data_limit_mb IS NOT NULL AND data_used_mb > data_limit_mb`;
  return rows.map((row) => row.id);
}

/**
 * `where` clauses on a device's connection for a device list. Every given field must match; a
 * device without a connection matches none of them, except `overDataLimit: false`.
 */
export async function connectionFilterWhere(
  session: TenantSession,
  filter: ConnectionFilter,
  tenantId: string | undefined,
): Promise<Prisma.DeviceWhereInput[]> {
  const connection: Prisma.DeviceConnectionWhereInput = {
    ...(filter.carrier && { carrierName: { equals: filter.carrier, mode: 'insensitive' } }),
    ...(filter.connectionType?.length && { connectionType: { in: [...filter.connectionType] } }),
    ...(filter.simStatus?.length && { simStatus: { in: [...filter.simStatus] } }),
    ...(filter.networkStatus?.length && { networkStatus: { in: [...filter.networkStatus] } }),
  };
  const and: Prisma.DeviceWhereInput[] = Object.keys(connection).length > 0 ? [{ connection: { is: connection } }] : [];
  if (filter.overDataLimit != null) {
    const over: Prisma.DeviceWhereInput = { connection: { is: { id: { in: await overLimitConnectionIds(session, tenantId) } } } };
    and.push(filter.overDataLimit ? over : { NOT: over });
  }
  return and;
}
