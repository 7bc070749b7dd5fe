import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import '../modules/devices/schema.js';
import '../modules/devices/mutations.js';
import '../modules/devices/subscriptions.js';
import '../modules/sites/schema.js';
import '../modules/connectivity/schema.js';
import '../modules/connectivity/subscriptions.js';
import '../modules/connections/schema.js';
import '../modules/twin/schema.js';
import '../modules/twin/mutations.js';
import '../modules/twin/subscriptions.js';

/** The executable schema; module files above register their types and root fields on import. */
export const schema = builder.toSchema();

/** The SDL as committed in `schema.graphql`: sorted, so diffs show real changes only. */
export function printPulseSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
