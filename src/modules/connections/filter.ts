import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import type { DeviceFilterTerm } from '../../graphql/device-filter-terms.js';
import { ConnectionTypeEnum, NetworkStatusEnum, SimStatusEnum } from './enums.js';
import { CONNECTION_TYPES, NETWORK_STATUSES, SIM_STATUSES } from './inputs.js';

/** A device without a connection matches none of these, except `overDataLimit: false`. */
const onConnection = (connection: Prisma.DeviceConnectionWhereInput): Prisma.DeviceWhereInput => ({ connection: { is: connection } });

function listTerm<const T extends readonly string[]>(
  field: string,
  values: T,
  type: typeof ConnectionTypeEnum | typeof SimStatusEnum | typeof NetworkStatusEnum,
  column: 'connectionType' | 'simStatus' | 'networkStatus',
): DeviceFilterTerm {
  return {
    field,
    schema: z.array(z.enum(values)).max(values.length).nullish(),
    input: (t) => t.field({ type: [type], description: `The connection's ${column} is one of these` }),
    where: (value) => {
      const list = value as T[number][] | null | undefined;
      return list?.length ? onConnection({ [column]: { in: [...list] } }) : null;
    },
  };
}

/** The `DeviceFilter` fields about a device's connection; every given field must match. */
export const connectionFilterTerms: DeviceFilterTerm[] = [
  {
    field: 'carrier',
    schema: z.string().trim().min(1).max(200).nullish(),
    input: (t) => t.string({ description: "The connection's carrier name (case-insensitive)" }),
    where: (value) => (value ? onConnection({ carrierName: { equals: value as string, mode: 'insensitive' } }) : null),
  },
  listTerm('connectionType', CONNECTION_TYPES, ConnectionTypeEnum, 'connectionType'),
  listTerm('simStatus', SIM_STATUSES, SimStatusEnum, 'simStatus'),
  listTerm('networkStatus', NETWORK_STATUSES, NetworkStatusEnum, 'networkStatus'),
  {
    field: 'overDataLimit',
    schema: z.boolean().nullish(),
    input: (t) => t.boolean({ description: 'true: usage above a set data limit; false: all others, devices without a connection included' }),
    where: (value) => {
      if (value == null) return null;
      // over_data_limit is a generated column (see its migration): the comparison stays in SQL.
      const over = onConnection({ overDataLimit: true });
      return value ? over : { NOT: over };
    },
  },
];
