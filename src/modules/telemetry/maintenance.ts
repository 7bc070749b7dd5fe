/**
 * Telemetry maintenance, a module worker (and a start-up task): daily partitions are created
 * ahead, whole partitions are dropped once past every tenant's retention, and tenants keeping
 * samples for less than that have their expired rows deleted in bounded batches, each batch its
 * own short transaction. Never a table-wide DELETE.
 */
import type { SessionRunner } from '../../db/tenant-session.js';
import { serviceScope } from '../../kernel/scope.js';
import type { Logger } from '../../logger.js';
import type { AppServices } from '../../services.js';
import { defineWorker } from '../../workers.js';
import { deleteExpiredSamples, dropExpiredPartitions, ensurePartitions, tenantsNeedingDeletes } from './store.js';

const MAINTENANCE_SCOPE = serviceScope('telemetry-maintenance');
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the UTC day `offsetDays` from `at`. */
export function utcDay(at: Date, offsetDays = 0): string {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS + offsetDays * DAY_MS).toISOString().slice(0, 10);
}

export interface MaintenanceReport {
  created: string[];
  dropped: string[];
  deletedRows: number;
}

/**
 * Creates the partitions from the oldest day a sample may still be accepted for up to
 * `partitionsAheadDays` after `now`, then applies retention. Destructive steps use
 * min(now, the real clock): a clock "ahead" (tests, a wrong NTP) never deletes data early.
 */
export async function maintainTelemetry(runner: SessionRunner, services: Pick<AppServices, 'config' | 'metrics'>, now: Date): Promise<MaintenanceReport> {
  const settings = services.config.telemetry;
  const oldestAccepted = new Date(now.getTime() - settings.maxSampleAgeSeconds * 1000);
  const created = await runner.run(MAINTENANCE_SCOPE, (session) => ensurePartitions(session, utcDay(oldestAccepted), utcDay(now, settings.partitionsAheadDays)));
  const asOf = new Date(Math.min(now.getTime(), Date.now()));
  const dropped = await runner.run(MAINTENANCE_SCOPE, (session) => dropExpiredPartitions(session, asOf, settings.retentionDays, settings.retentionBatchRows));
  services.metrics.telemetry.partitions.inc({ action: 'created' }, created.length);
  services.metrics.telemetry.partitions.inc({ action: 'dropped' }, dropped.length);
  const deletedRows = await deleteExpiredRows(runner, services, asOf);
  return { created: created.map((partition) => partition.name), dropped, deletedRows };
}

/** Per-tenant retention shorter than the partitions', in batches of `retentionBatchRows`, at most `retentionBatchesPerRun` per run. */
async function deleteExpiredRows(runner: SessionRunner, services: Pick<AppServices, 'config' | 'metrics'>, asOf: Date): Promise<number> {
  const { retentionDays, retentionBatchRows, retentionBatchesPerRun } = services.config.telemetry;
  const tenants = await runner.run(MAINTENANCE_SCOPE, (session) => tenantsNeedingDeletes(session, retentionDays));
  let batches = 0;
  let deleted = 0;
  for (const { tenantId, days } of tenants) {
    const cutoff = new Date(asOf.getTime() - days * DAY_MS);
    for (;;) {
      if (batches >= retentionBatchesPerRun) return deleted;
      batches += 1;
      const count = await runner.run(MAINTENANCE_SCOPE, (session) => deleteExpiredSamples(session, tenantId, cutoff, retentionBatchRows));
      deleted += count;
      services.metrics.telemetry.retentionDeleted.inc(count);
      if (count < retentionBatchRows) break;
    }
  }
  return deleted;
}

function logReport(logger: Logger, report: MaintenanceReport): void {
  if (report.created.length || report.dropped.length || report.deletedRows) logger.info(report, 'telemetry maintenance');
}

export const telemetryMaintenanceWorker = defineWorker({
  name: 'telemetry-maintenance',
  intervalMs: (config) => config.telemetry.maintenanceIntervalMs,
  async run({ runner, services, logger, now }) {
    logReport(logger, await maintainTelemetry(runner, services, now));
  },
});

/** At start-up: partitions for today and ahead exist before the first interval elapses. */
export async function ensurePartitionsAtStart(context: { runner: SessionRunner; services: AppServices; logger: Logger }): Promise<void> {
  logReport(context.logger, await maintainTelemetry(context.runner, context.services, new Date()));
}
