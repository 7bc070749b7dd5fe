import { defineModule } from '../../platform/module.js';
import { connectionDimensions, connectionFilterTerms } from './filter.js';
import * as schema from './schema.js';
import './events.js';

/** Cellular connections (seed 000): carrier, SIM, data plan, network status. */
export const connectionsModule = defineModule({
  name: 'connections',
  schema: [schema],
  events: ['deviceConnectionChanged'],
  deviceFields: ['connection'],
  deviceFilters: connectionFilterTerms,
  deviceDimensions: connectionDimensions,
});
