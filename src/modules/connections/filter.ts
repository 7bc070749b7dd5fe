import type { Prisma } from '../../generated/prisma/client.js';
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
 * `where` clauses on a device's connection for a device list. Every given field must match; a
 * device without a connection matches none of them, except `overDataLimit: false`.
 */
export function connectionFilterWhere(filter: ConnectionFilter): Prisma.DeviceWhereInput[] {
  const connection: Prisma.DeviceConnectionWhereInput = {
    ...(filter.carrier && { carrierName: { equals: filter.carrier, mode: 'insensitive' } }),
    ...(filter.connectionType?.length && { connectionType: { in: [...filter.connectionType] } }),
    ...(filter.simStatus?.length && { simStatus: { in: [...filter.simStatus] } }),
    ...(filter.networkStatus?.length && { networkStatus: { in: [...filter.networkStatus] } }),
  };
  const and: Prisma.DeviceWhereInput[] = Object.keys(connection).length > 0 ? [{ connection: { is: connection } }] : [];
  if (filter.overDataLimit != null) {
    // over_data_limit is a generated column (see its migration): the comparison stays in SQL.
    const over: Prisma.DeviceWhereInput = { connection: { is: { overDataLimit: true } } };
    and.push(filter.overDataLimit ? over : { NOT: over });
  }
  return and;
}
