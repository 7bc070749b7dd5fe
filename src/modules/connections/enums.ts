import { builder } from '../../graphql/builder.js';
import { CONNECTION_TYPES, NETWORK_STATUSES, SIM_STATUSES } from './inputs.js';

/** GraphQL enums in upper case over the lower-case values the table stores. */
function enumValues<const T extends readonly string[]>(values: T) {
  return Object.fromEntries(values.map((value) => [value.toUpperCase(), { value }])) as {
    [V in T[number] as Uppercase<V>]: { value: V };
  };
}

export const ConnectionTypeEnum = builder.enumType('ConnectionType', { values: enumValues(CONNECTION_TYPES) });
export const SimStatusEnum = builder.enumType('SimStatus', { values: enumValues(SIM_STATUSES) });
export const NetworkStatusEnum = builder.enumType('NetworkStatus', { values: enumValues(NETWORK_STATUSES) });
