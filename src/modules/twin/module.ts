import { defineModule } from '../../platform/module.js';
import { twinConfig } from './config.js';
import * as filterTerms from './filter-terms.js';
import { twinDimensions, twinFilterTerms } from './filter-terms.js';
import { twinDesiredTopic, twinReportedTopic } from './mqtt.js';
import * as mutations from './mutations.js';
import * as schema from './schema.js';
import * as subscriptions from './subscriptions.js';
import './events.js';

/** The device twin: versioned desired writes, reported state over MQTT, structured delta, history. */
export const twinModule = defineModule({
  name: 'twin',
  schema: [schema, mutations, subscriptions, filterTerms],
  inbound: [twinReportedTopic],
  outbound: [twinDesiredTopic],
  config: twinConfig,
  events: ['deviceTwinChanged'],
  deviceFields: ['twin'],
  deviceFilters: twinFilterTerms,
  deviceDimensions: twinDimensions,
  errorCodes: ['TWIN_VERSION_CONFLICT', 'TWIN_DOCUMENT_TOO_LARGE'],
});
