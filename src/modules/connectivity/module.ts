import { defineModule } from '../../platform/module.js';
import { presenceConfig } from './config.js';
import * as deviceFields from './device-fields.js';
import { presenceDimensions, presenceFilterTerms } from './device-fields.js';
import { presenceEvaluatorWorker } from './evaluator.js';
import { presenceMetrics } from './metrics.js';
import { heartbeatTopic, offlineStatusWill, statusTopic } from './mqtt.js';
import * as schema from './schema.js';
import * as subscriptions from './subscriptions.js';
import './events.js';

/** Presence (status, heartbeats, the evaluator) and the append-only connectivity log. */
export const connectivityModule = defineModule({
  name: 'connectivity',
  schema: [deviceFields, schema, subscriptions],
  inbound: [statusTopic, heartbeatTopic],
  deviceWill: offlineStatusWill,
  workers: [presenceEvaluatorWorker],
  config: presenceConfig,
  metrics: presenceMetrics,
  events: ['deviceConnectivityChanged'],
  deviceFields: ['status', 'lastSeenAt', 'connectionEvents', 'uptime'],
  deviceFilters: presenceFilterTerms,
  deviceDimensions: presenceDimensions,
});
