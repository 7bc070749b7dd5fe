/**
 * The SQL of threshold evaluation inside the ingest transaction: candidate rules, group
 * membership of the batch's devices, the per-(rule, device) state rows (locked), their open
 * alerts, and the writes. One statement per step for the whole batch.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { groupMembershipSql, type GroupRecord } from '../groups/membership.js';
import type { Condition, EvaluationState, OpenAlertChange, RaisedAlert } from './conditions.js';
import type { Severity } from './rules.js';

export interface ThresholdRuleRow {
  tenantId: string;
  ruleId: string;
  metric: string;
  condition: Condition;
  threshold: number | null;
  clearThreshold: number | null;
  rangeLow: number | null;
  rangeHigh: number | null;
  hysteresis: number | null;
  forSeconds: number | null;
  forSamples: number | null;
  deviceId: string | null;
  groupId: string | null;
  severity: Severity;
}

/** The enabled threshold rules on the batch's (tenant, metric) pairs. */
export async function thresholdRulesFor(session: TenantSession, pairs: ReadonlyArray<{ tenantId: string; metric: string }>): Promise<ThresholdRuleRow[]> {
  if (pairs.length === 0) return [];
  return session.db.$queryRaw<ThresholdRuleRow[]>`
    SELECT r.tenant_id AS "tenantId", r.rule_id AS "ruleId", r.metric, r.condition, r.threshold, r.clear_threshold AS "clearThreshold",
           r.range_low AS "rangeLow", r.range_high AS "rangeHigh", r.hysteresis, r.for_seconds AS "forSeconds",
           r.for_samples AS "forSamples", r.device_id AS "deviceId", r.group_id AS "groupId", r.severity
    FROM alert_rules r
    JOIN unnest(${pairs.map((p) => p.tenantId)}::text[], ${pairs.map((p) => p.metric)}::text[]) AS p(tenant_id, metric)
      ON r.tenant_id = p.tenant_id AND r.metric = p.metric
    WHERE r.enabled AND r.kind = 'threshold'`;
}

/** Which of `deviceIds` are members of each group: one statement for every group. */
export async function groupMembers(
  session: TenantSession,
  checks: ReadonlyArray<{ group: GroupRecord; deviceIds: string[] }>,
): Promise<Array<{ tenantId: string; groupId: string; deviceId: string }>> {
  if (checks.length === 0) return [];
  const selects: Prisma.Sql[] = [];
  for (const { group, deviceIds } of checks) {
    selects.push(Prisma.sql`
      SELECT d.tenant_id AS "tenantId", ${group.groupId}::text AS "groupId", d.device_id AS "deviceId" FROM device_registry d
      WHERE d.tenant_id = ${group.tenantId} AND d.device_id = ANY(${deviceIds}::text[]) AND ${await groupMembershipSql(session, group)}`);
  }
  return session.db.$queryRaw<Array<{ tenantId: string; groupId: string; deviceId: string }>>(Prisma.join(selects, ' UNION ALL '));
}

export interface RuleDeviceKey {
  tenantId: string;
  ruleId: string;
  deviceId: string;
}

export const pairKey = (key: RuleDeviceKey) => `${key.tenantId}/${key.ruleId}/${key.deviceId}`;

export type StoredState = RuleDeviceKey & Omit<EvaluationState, 'open'>;

/**
 * Creates the missing state rows and locks all of them, returning each as it stands after any
 * concurrent writer committed: ON CONFLICT DO UPDATE works on the newest row version and holds
 * its lock until this transaction ends, so two transactions evaluating one (rule, device) take
 * turns, the second seeing what the first wrote. `keys` must be sorted (lock order, no deadlock).
 */
export async function lockStates(session: TenantSession, keys: readonly RuleDeviceKey[]): Promise<StoredState[]> {
  return session.db.$queryRaw<StoredState[]>`
    INSERT INTO alert_rule_states AS s (tenant_id, rule_id, device_id)
    SELECT * FROM unnest(${keys.map((k) => k.tenantId)}::text[], ${keys.map((k) => k.ruleId)}::text[], ${keys.map((k) => k.deviceId)}::text[])
    ON CONFLICT (tenant_id, rule_id, device_id) DO UPDATE SET updated_at = now()
    RETURNING s.tenant_id AS "tenantId", s.rule_id AS "ruleId", s.device_id AS "deviceId", s.breach_since AS "breachSince",
              s.breach_samples AS "breachSamples", s.last_sample_at AS "lastSampleAt"`;
}

/**
 * The open alerts of the pairs. A separate statement after {@link lockStates} on purpose: it takes
 * a fresh snapshot, so it sees an alert raised by the transaction it waited for.
 */
export async function openAlerts(session: TenantSession, keys: readonly RuleDeviceKey[]): Promise<Array<RuleDeviceKey & { alertId: string; peakValue: number | null }>> {
  return session.db.$queryRaw`
    SELECT a.tenant_id AS "tenantId", a.rule_id AS "ruleId", a.device_id AS "deviceId", a.alert_id AS "alertId", a.peak_value AS "peakValue"
    FROM alerts a
    JOIN unnest(${keys.map((k) => k.tenantId)}::text[], ${keys.map((k) => k.ruleId)}::text[], ${keys.map((k) => k.deviceId)}::text[]) AS k(tenant_id, rule_id, device_id)
      ON a.tenant_id = k.tenant_id AND a.rule_id = k.rule_id AND a.device_id = k.device_id
    WHERE a.state IN ('active', 'acknowledged')`;
}

export type NewThresholdAlert = RaisedAlert & RuleDeviceKey & { metric: string; severity: Severity; threshold: number | null; details: object };

/**
 * Inserts raised alerts (those raised and cleared within the batch already cleared). The partial
 * unique index has the last word: an open alert that exists already wins and nothing is inserted.
 * Returns the ids inserted.
 */
export async function insertThresholdAlerts(session: TenantSession, alerts: readonly NewThresholdAlert[]): Promise<Set<string>> {
  if (alerts.length === 0) return new Set();
  const col = <T>(pick: (a: NewThresholdAlert) => T) => alerts.map(pick);
  const rows = await session.db.$queryRaw<Array<{ alert_id: string }>>`
    INSERT INTO alerts (tenant_id, alert_id, rule_id, device_id, metric, value, threshold, severity, peak_value, peak_at, raised_at,
                        state, cleared_at, clear_reason, clear_value, details)
    SELECT tenant_id, alert_id, rule_id, device_id, metric, value, threshold, severity, peak_value, peak_at, raised_at,
           CASE WHEN cleared_at IS NULL THEN 'active' ELSE 'cleared' END, cleared_at,
           CASE WHEN cleared_at IS NULL THEN NULL ELSE 'condition' END, clear_value, details
    FROM unnest(${col((a) => a.tenantId)}::text[], ${col((a) => a.alertId)}::text[], ${col((a) => a.ruleId)}::text[],
                ${col((a) => a.deviceId)}::text[], ${col((a) => a.metric)}::text[], ${col((a) => a.value)}::float8[],
                ${col((a) => a.threshold)}::float8[], ${col((a) => a.severity)}::text[], ${col((a) => a.peakValue)}::float8[],
                ${col((a) => a.peakAt.toISOString())}::text[]::timestamptz[], ${col((a) => a.raisedAt.toISOString())}::text[]::timestamptz[],
                ${col((a) => a.cleared?.time.toISOString() ?? null)}::text[]::timestamptz[], ${col((a) => a.cleared?.value ?? null)}::float8[],
                ${col((a) => JSON.stringify(a.details))}::text[]::jsonb[])
         AS u(tenant_id, alert_id, rule_id, device_id, metric, value, threshold, severity, peak_value, peak_at, raised_at, cleared_at, clear_value, details)
    ON CONFLICT (tenant_id, rule_id, device_id) WHERE state IN ('active', 'acknowledged') DO NOTHING
    RETURNING alert_id`;
  return new Set(rows.map((row) => row.alert_id));
}

/**
 * Applies new peaks and clears to alerts that were open, guarded on their still being open (a
 * manual clear may have come first). Returns the alerts this cleared.
 */
export async function updateOpenAlerts(
  session: TenantSession,
  changes: ReadonlyArray<OpenAlertChange & { tenantId: string }>,
): Promise<Array<{ alertId: string; tenantId: string; deviceId: string; ruleId: string; severity: Severity; clearedAt: Date | null }>> {
  if (changes.length === 0) return [];
  return session.db.$queryRaw`
    UPDATE alerts a SET
      peak_value = COALESCE(u.peak_value, a.peak_value), peak_at = COALESCE(u.peak_at, a.peak_at),
      state = CASE WHEN u.cleared_at IS NULL THEN a.state ELSE 'cleared' END,
      cleared_at = COALESCE(u.cleared_at, a.cleared_at),
      clear_reason = CASE WHEN u.cleared_at IS NULL THEN a.clear_reason ELSE 'condition' END,
      clear_value = COALESCE(u.clear_value, a.clear_value)
    FROM unnest(${changes.map((c) => c.tenantId)}::text[], ${changes.map((c) => c.alertId)}::text[], ${changes.map((c) => c.peak?.value ?? null)}::float8[],
                ${changes.map((c) => c.peak?.time.toISOString() ?? null)}::text[]::timestamptz[],
                ${changes.map((c) => c.cleared?.time.toISOString() ?? null)}::text[]::timestamptz[],
                ${changes.map((c) => c.cleared?.value ?? null)}::float8[])
         AS u(tenant_id, alert_id, peak_value, peak_at, cleared_at, clear_value)
    WHERE a.tenant_id = u.tenant_id AND a.alert_id = u.alert_id AND a.state IN ('active', 'acknowledged')
    RETURNING a.alert_id AS "alertId", a.tenant_id AS "tenantId", a.device_id AS "deviceId", a.rule_id AS "ruleId", a.severity,
              u.cleared_at AS "clearedAt"`;
}

/** Stores the evaluated states (their rows are locked by {@link lockStates}). */
export async function saveStates(session: TenantSession, states: readonly StoredState[]): Promise<void> {
  if (states.length === 0) return;
  await session.db.$executeRaw`
    UPDATE alert_rule_states s SET breach_since = u.breach_since, breach_samples = u.breach_samples, last_sample_at = u.last_sample_at
    FROM unnest(${states.map((s) => s.tenantId)}::text[], ${states.map((s) => s.ruleId)}::text[], ${states.map((s) => s.deviceId)}::text[],
                ${states.map((s) => s.breachSince?.toISOString() ?? null)}::text[]::timestamptz[], ${states.map((s) => s.breachSamples)}::int[],
                ${states.map((s) => s.lastSampleAt?.toISOString() ?? null)}::text[]::timestamptz[])
         AS u(tenant_id, rule_id, device_id, breach_since, breach_samples, last_sample_at)
    WHERE s.tenant_id = u.tenant_id AND s.rule_id = u.rule_id AND s.device_id = u.device_id`;
}
