import type { TenantSession } from '../../db/tenant-session.js';
import type { AppServices } from '../../services.js';
import type { AlertChange } from './events.js';
import type { Severity } from './rules.js';

/** A committed-to-be alert transition, as the statements that make them return it. */
export interface AlertTransition {
  tenantId: string;
  deviceId: string;
  alertId: string;
  ruleId: string;
  severity: Severity;
  change: AlertChange;
  at: Date;
}

/** Queues `alertChanged` for each transition (delivered after commit) and counts it. */
export function publishAlertTransitions(session: TenantSession, services: Pick<AppServices, 'metrics'>, transitions: readonly AlertTransition[]): void {
  for (const t of transitions) {
    session.publish('alertChanged', {
      tenantId: t.tenantId,
      deviceId: t.deviceId,
      alertId: t.alertId,
      ruleId: t.ruleId,
      change: t.change,
      severity: t.severity,
      occurredAt: t.at.toISOString(),
    });
    services.metrics.alerts.transitions.inc({ change: t.change, severity: t.severity });
  }
}
