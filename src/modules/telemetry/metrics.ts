import { Counter } from 'prom-client';
import { defineMetrics } from '../../http/metrics.js';

export interface TelemetryMetrics {
  /** Samples stored (redeliveries of stored samples are not counted again). */
  samples: Counter;
  /** Rows removed by per-tenant retention deletes. */
  retentionDeleted: Counter;
  /** Daily partitions created ahead and dropped past retention. */
  partitions: Counter<'action'>;
}

declare module '../../http/metrics.js' {
  interface ModuleMetrics {
    telemetry: TelemetryMetrics;
  }
}

export const telemetryMetrics = defineMetrics({
  key: 'telemetry',
  create: (registry) => ({
    samples: new Counter({ name: 'pulse_telemetry_samples_total', help: 'Telemetry samples stored', registers: [registry] }),
    retentionDeleted: new Counter({
      name: 'pulse_telemetry_retention_deleted_total',
      help: 'Telemetry rows deleted by per-tenant retention (in bounded batches)',
      registers: [registry],
    }),
    partitions: new Counter({
      name: 'pulse_telemetry_partitions_total',
      help: 'Daily telemetry partitions created or dropped by the maintenance worker',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
  }),
});
