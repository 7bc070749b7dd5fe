import { defineModule } from '../../platform/module.js';
import { alertsConfig } from './config.js';
import { ALERT_ERROR_CODES } from './errors.js';
import { alertMetrics } from './metrics.js';
import * as mutations from './mutations.js';
import * as schema from './schema.js';
import * as subscriptions from './subscriptions.js';
import { clearNotConvergedOnSync, clearOfflineOnReconnect, timedRulesWorker } from './timed.js';
import './events.js';

/**
 * Alert rules (threshold with hysteresis and duration, offline for too long, twin not converged)
 * and alerts ACTIVE → ACKNOWLEDGED → CLEARED, at most one open per (rule, device). Threshold rules
 * are evaluated by the telemetry ingest in its own transaction (evaluate.ts).
 */
export const alertsModule = defineModule({
  name: 'alerts',
  schema: [schema, mutations, subscriptions],
  workers: [timedRulesWorker],
  reactions: [clearOfflineOnReconnect, clearNotConvergedOnSync],
  config: alertsConfig,
  metrics: alertMetrics,
  events: ['alertChanged'],
  deviceFields: ['alerts'],
  errorCodes: ALERT_ERROR_CODES,
});
