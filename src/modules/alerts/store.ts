/**
 * Alert rules and alerts outside ingest: rule rows (Prisma), and the guarded single-statement
 * transitions a user makes (acknowledge, clear) with the database clock.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { RuleDefinition, Severity } from './rules.js';

export interface RuleKey {
  tenantId: string;
  ruleId: string;
}

const DEFINITION_SELECT = {
  name: true,
  kind: true,
  deviceId: true,
  groupId: true,
  metric: true,
  condition: true,
  threshold: true,
  clearThreshold: true,
  rangeLow: true,
  rangeHigh: true,
  hysteresis: true,
  forSeconds: true,
  forSamples: true,
  severity: true,
  enabled: true,
} satisfies Prisma.AlertRuleSelect;

export async function insertRule(session: TenantSession, tenantId: string, rule: RuleDefinition): Promise<RuleKey> {
  return session.db.alertRule.create({ data: { tenantId, ...rule }, select: { tenantId: true, ruleId: true } });
}

/** The rule's definition, its row locked until the transaction ends (an update merges onto it). */
export async function lockRule(session: TenantSession, key: RuleKey): Promise<RuleDefinition | null> {
  const rows = await session.db.$queryRaw<Array<{ rule_id: string }>>`
    SELECT rule_id FROM alert_rules WHERE tenant_id = ${key.tenantId} AND rule_id = ${key.ruleId} FOR UPDATE`;
  if (rows.length === 0) return null;
  const rule = await session.db.alertRule.findUnique({ where: { tenantId_ruleId: key }, select: DEFINITION_SELECT });
  return rule as RuleDefinition | null;
}

export async function updateRule(session: TenantSession, key: RuleKey, rule: RuleDefinition): Promise<void> {
  await session.db.alertRule.update({ where: { tenantId_ruleId: key }, data: rule, select: { ruleId: true } });
}

/** Deletes the rule with its alerts and evaluation state (cascade); false when there was none. */
export async function deleteRule(session: TenantSession, key: RuleKey): Promise<boolean> {
  const { count } = await session.db.alertRule.deleteMany({ where: key });
  return count > 0;
}

export interface AlertKey {
  tenantId: string;
  alertId: string;
}

export interface AlertRow extends AlertKey {
  deviceId: string;
  ruleId: string;
  severity: Severity;
  state: 'active' | 'acknowledged' | 'cleared';
  at: Date;
}

const returning = (at: 'acknowledged_at' | 'cleared_at') =>
  Prisma.raw(`RETURNING tenant_id AS "tenantId", alert_id AS "alertId", device_id AS "deviceId", rule_id AS "ruleId", severity, state, ${at} AS "at"`);

/** ACTIVE → ACKNOWLEDGED, only from ACTIVE; null when the alert is not ACTIVE (or not visible). */
export async function acknowledgeAlertRow(session: TenantSession, key: AlertKey, by: string | null, note: string | null): Promise<AlertRow | null> {
  const rows = await session.db.$queryRaw<AlertRow[]>`
    UPDATE alerts SET state = 'acknowledged', acknowledged_at = now(), acknowledged_by = ${by}, acknowledge_note = ${note}
    WHERE tenant_id = ${key.tenantId} AND alert_id = ${key.alertId} AND state = 'active' ${returning('acknowledged_at')}`;
  return rows[0] ?? null;
}

/** ACTIVE or ACKNOWLEDGED → CLEARED by hand; null when the alert is not open (or not visible). */
export async function clearAlertRow(session: TenantSession, key: AlertKey, by: string | null, note: string | null): Promise<AlertRow | null> {
  const rows = await session.db.$queryRaw<AlertRow[]>`
    UPDATE alerts SET state = 'cleared', cleared_at = now(), clear_reason = 'manual', cleared_by = ${by}, clear_note = ${note}
    WHERE tenant_id = ${key.tenantId} AND alert_id = ${key.alertId} AND state IN ('active', 'acknowledged') ${returning('cleared_at')}`;
  return rows[0] ?? null;
}

/** The alert's current state, or null when it does not exist for the caller. */
export async function alertState(session: TenantSession, key: AlertKey): Promise<AlertRow['state'] | null> {
  const alert = await session.db.alert.findUnique({ where: { tenantId_alertId: key }, select: { state: true } });
  return (alert?.state as AlertRow['state'] | undefined) ?? null;
}
