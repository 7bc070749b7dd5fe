import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import { defineFilterTerm, type DeviceDimension } from '../../graphql/device-filter-terms.js';
import { ConnectionTypeEnum, NetworkStatusEnum, SimStatusEnum } from './enums.js';
import { CONNECTION_TYPES, NETWORK_STATUSES, SIM_STATUSES } from './inputs.js';

/** A condition on the device's connection row; a device without a connection matches none. */
const onConnection = (device: Prisma.Sql, condition: Prisma.Sql) =>
  Prisma.sql`EXISTS (SELECT 1 FROM device_connections c WHERE c.tenant_id = ${device}.tenant_id AND c.device_id = ${device}.device_id AND ${condition})`;

function listTerm<const T extends readonly [string, ...string[]]>(
  field: string,
  values: T,
  type: typeof ConnectionTypeEnum | typeof SimStatusEnum | typeof NetworkStatusEnum,
  column: 'connection_type' | 'sim_status' | 'network_status',
) {
  return defineFilterTerm({
    field,
    schema: z.array(z.enum(values)).min(1).max(values.length).nullish(),
    input: (t) => t.field({ type: [type], description: `The connection's ${field} is one of these` }),
    sql: (list, { device }) => onConnection(device, Prisma.sql`c.${Prisma.raw(column)} = ANY(${list as string[]}::text[])`),
    dependsOn: ['connection'],
  });
}

/** The `DeviceFilter` fields about a device's connection. */
export const connectionFilterTerms = [
  defineFilterTerm({
    field: 'carrier',
    schema: z.string().trim().min(1).max(200).nullish(),
    input: (t) => t.string({ description: "The connection's carrier name (case-insensitive)" }),
    sql: (carrier, { device }) => onConnection(device, Prisma.sql`lower(c.carrier_name) = lower(${carrier})`),
    dependsOn: ['connection'],
  }),
  listTerm('connectionType', CONNECTION_TYPES, ConnectionTypeEnum, 'connection_type'),
  listTerm('simStatus', SIM_STATUSES, SimStatusEnum, 'sim_status'),
  listTerm('networkStatus', NETWORK_STATUSES, NetworkStatusEnum, 'network_status'),
  defineFilterTerm({
    field: 'overDataLimit',
    schema: z.boolean().nullish(),
    input: (t) => t.boolean({ description: 'true: usage above a set data limit; false: all others, devices without a connection included' }),
    sql: (over, { device }) => {
      // over_data_limit is a generated column (see its migration): the comparison stays in SQL.
      const isOver = onConnection(device, Prisma.sql`c.over_data_limit`);
      return over ? isOver : Prisma.sql`NOT ${isOver}`;
    },
    dependsOn: ['connection'],
  }),
];

const connectionColumn = (column: string) => (device: Prisma.Sql) =>
  Prisma.sql`(SELECT c.${Prisma.raw(column)} FROM device_connections c WHERE c.tenant_id = ${device}.tenant_id AND c.device_id = ${device}.device_id)`;

export const connectionDimensions: DeviceDimension[] = [
  { name: 'CARRIER', description: "The connection's carrier name (null: no connection or no carrier)", sql: connectionColumn('carrier_name') },
  { name: 'SIM_STATUS', description: "The connection's SIM status, upper case (null: none)", sql: (device) => Prisma.sql`upper(${connectionColumn('sim_status')(device)})` },
  { name: 'CONNECTION_TYPE', description: "The connection's type, upper case (null: no connection)", sql: (device) => Prisma.sql`upper(${connectionColumn('connection_type')(device)})` },
  { name: 'NETWORK_STATUS', description: "The connection's network status, upper case (null: none)", sql: (device) => Prisma.sql`upper(${connectionColumn('network_status')(device)})` },
];
