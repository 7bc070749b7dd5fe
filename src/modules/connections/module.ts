import { defineModule } from '../../platform/module.js';
import { connectionFilterTerms } from './filter.js';
import * as schema from './schema.js';

/** Cellular connections (seed 000): carrier, SIM, data plan, network status. */
export const connectionsModule = defineModule({
  name: 'connections',
  schema: [schema],
  deviceFields: ['connection'],
  deviceFilters: connectionFilterTerms,
});
