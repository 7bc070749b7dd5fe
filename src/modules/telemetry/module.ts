import { defineModule } from '../../platform/module.js';
import { telemetryConfig } from './config.js';
import { ensurePartitionsAtStart, telemetryMaintenanceWorker } from './maintenance.js';
import { telemetryMetrics } from './metrics.js';
import { telemetryTopic } from './mqtt.js';
import * as schema from './schema.js';

/** Telemetry: samples over MQTT into daily partitions, latest values, bucketed history, retention. */
export const telemetryModule = defineModule({
  name: 'telemetry',
  schema: [schema],
  inbound: [telemetryTopic],
  workers: [telemetryMaintenanceWorker],
  onStart: ensurePartitionsAtStart,
  config: telemetryConfig,
  metrics: telemetryMetrics,
  deviceFields: ['telemetry', 'telemetryHistory'],
});
