import { defineConfigSection, env } from '../../config.js';

export interface TelemetrySettings {
  /** Retention of tenants without their own `telemetryRetentionDays`. */
  retentionDays: number;
  /** Samples older than this (relative to receive time) are refused. */
  maxSampleAgeSeconds: number;
  /** Samples further ahead than this (a device clock running fast) are refused. */
  maxFutureSeconds: number;
  /** Daily partitions kept created ahead of today. */
  partitionsAheadDays: number;
  /** How often the maintenance worker creates partitions and applies retention. */
  maintenanceIntervalMs: number;
  /** Rows one retention DELETE removes (each in its own transaction), and batches per run. */
  retentionBatchRows: number;
  retentionBatchesPerRun: number;
}

declare module '../../config.js' {
  interface ModuleSettings {
    telemetry: TelemetrySettings;
  }
}

export const MAX_RETENTION_DAYS = 3_650;

export const telemetryConfig = defineConfigSection({
  key: 'telemetry',
  variables: {
    TELEMETRY_RETENTION_DAYS: env.positiveInt(30),
    TELEMETRY_MAX_SAMPLE_AGE_SECONDS: env.positiveInt(7 * 24 * 3600),
    TELEMETRY_MAX_FUTURE_SECONDS: env.positiveInt(300),
    TELEMETRY_PARTITIONS_AHEAD_DAYS: env.positiveInt(7),
    TELEMETRY_MAINTENANCE_INTERVAL_MS: env.positiveInt(3_600_000),
    TELEMETRY_RETENTION_BATCH_ROWS: env.positiveInt(10_000),
    TELEMETRY_RETENTION_BATCHES_PER_RUN: env.positiveInt(100),
  },
  refine(values, issue) {
    if (values.TELEMETRY_RETENTION_DAYS > MAX_RETENTION_DAYS) issue('TELEMETRY_RETENTION_DAYS', `must be at most ${MAX_RETENTION_DAYS}`);
    // Partitions exist from (now - max age) on; older samples would land in the default partition.
    if (values.TELEMETRY_MAX_SAMPLE_AGE_SECONDS > 366 * 24 * 3600) issue('TELEMETRY_MAX_SAMPLE_AGE_SECONDS', 'must be at most 366 days');
    if (values.TELEMETRY_PARTITIONS_AHEAD_DAYS > 366) issue('TELEMETRY_PARTITIONS_AHEAD_DAYS', 'must be at most 366');
  },
  build: (values) => ({
    retentionDays: values.TELEMETRY_RETENTION_DAYS,
    maxSampleAgeSeconds: values.TELEMETRY_MAX_SAMPLE_AGE_SECONDS,
    maxFutureSeconds: values.TELEMETRY_MAX_FUTURE_SECONDS,
    partitionsAheadDays: values.TELEMETRY_PARTITIONS_AHEAD_DAYS,
    maintenanceIntervalMs: values.TELEMETRY_MAINTENANCE_INTERVAL_MS,
    retentionBatchRows: values.TELEMETRY_RETENTION_BATCH_ROWS,
    retentionBatchesPerRun: values.TELEMETRY_RETENTION_BATCHES_PER_RUN,
  }),
});
