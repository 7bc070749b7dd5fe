/**
 * The SQL of threshold evaluation inside the ingest transaction: candidate rules, group
 * membership of the batch's devices, the per-(rule, device) state rows (locked, carrying their
 * open alert), and one statement for all the writes.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { groupMembershipSql, type GroupRecord } from '../groups/membership.js';
import type { Condition, EvaluationState, OpenAlertChange, RaisedAlert } from './conditions.js';
import type { AlertTransition } from './publish.js';
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

export type StoredState = RuleDeviceKey & EvaluationState;

type LockedRow = RuleDeviceKey & Omit<EvaluationState, 'open'> & { openAlertId: string | null; openPeak: number | null };

/**
 * Creates the missing state rows and locks all of them, returning each as it stands after any
 * concurrent writer committed: ON CONFLICT DO UPDATE works on the newest row version and holds
 * its lock until this transaction ends, so two transactions evaluating one (rule, device) take
 * turns, the second seeing what the first wrote, its open alert included. `keys` must be
 * sorted (lock order, no deadlock).
 */
export async function lockStates(session: TenantSession, keys: readonly RuleDeviceKey[]): Promise<StoredState[]> {
  const rows = await session.db.$queryRaw<LockedRow[]>`
    INSERT INTO alert_rule_states AS s (tenant_id, rule_id, device_id)
    SELECT * FROM unnest(${keys.map((k) => k.tenantId)}::text[], ${keys.map((k) => k.ruleId)}::text[], ${keys.map((k) => k.deviceId)}::text[])
    ON CONFLICT (tenant_id, rule_id, device_id) DO UPDATE SET updated_at = now()
    RETURNING s.tenant_id AS "tenantId", s.rule_id AS "ruleId", s.device_id AS "deviceId", s.breach_since AS "breachSince",
              s.breach_samples AS "breachSamples", s.last_sample_at AS "lastSampleAt", s.open_alert_id AS "openAlertId", s.open_peak AS "openPeak"`;
  return rows.map(({ openAlertId, openPeak, ...row }) => ({ ...row, open: openAlertId ? { alertId: openAlertId, peakValue: openPeak } : null }));
}

export type NewThresholdAlert = RaisedAlert & RuleDeviceKey & { metric: string; severity: Severity; threshold: number | null; details: object };
export type ChangedAlert = OpenAlertChange & { tenantId: string };

/**
 * Every write of an evaluated batch in one statement: the raised alerts (those raised and
 * cleared within the batch inserted cleared), the peaks and clears of alerts that were open, and
 * the new states. The partial unique index has the last word on raising: should an open alert
 * exist that the state did not know of, nothing is inserted and the state does not point at the
 * alert that was not. Returns the transitions to publish.
 */
export async function applyEvaluation(
  session: TenantSession,
  writes: { raised: readonly NewThresholdAlert[]; changed: readonly ChangedAlert[]; states: readonly StoredState[] },
): Promise<AlertTransition[]> {
  const { raised, changed, states } = writes;
  const r = <T>(pick: (a: NewThresholdAlert) => T) => raised.map(pick);
  const c = <T>(pick: (a: ChangedAlert) => T) => changed.map(pick);
  const s = <T>(pick: (a: StoredState) => T) => states.map(pick);
  const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;
  const rows = await session.db.$queryRaw<AlertTransition[]>`
    WITH raised AS (
      INSERT INTO alerts (tenant_id, alert_id, rule_id, device_id, metric, value, threshold, severity, peak_value, peak_at, raised_at,
                          state, cleared_at, clear_reason, clear_value, details)
      SELECT tenant_id, alert_id, rule_id, device_id, metric, value, threshold, severity, peak_value, peak_at, raised_at,
             CASE WHEN cleared_at IS NULL THEN 'active' ELSE 'cleared' END, cleared_at,
             CASE WHEN cleared_at IS NULL THEN NULL ELSE 'condition' END, clear_value, details
      FROM unnest(${r((a) => a.tenantId)}::text[], ${r((a) => a.alertId)}::text[], ${r((a) => a.ruleId)}::text[],
                  ${r((a) => a.deviceId)}::text[], ${r((a) => a.metric)}::text[], ${r((a) => a.value)}::float8[],
                  ${r((a) => a.threshold)}::float8[], ${r((a) => a.severity)}::text[], ${r((a) => a.peakValue)}::float8[],
                  ${r((a) => a.peakAt.toISOString())}::text[]::timestamptz[], ${r((a) => a.raisedAt.toISOString())}::text[]::timestamptz[],
                  ${r((a) => iso(a.cleared?.time))}::text[]::timestamptz[], ${r((a) => a.cleared?.value ?? null)}::float8[],
                  ${r((a) => JSON.stringify(a.details))}::text[]::jsonb[])
           AS u(tenant_id, alert_id, rule_id, device_id, metric, value, threshold, severity, peak_value, peak_at, raised_at, cleared_at, clear_value, details)
      ON CONFLICT (tenant_id, rule_id, device_id) WHERE state IN ('active', 'acknowledged') DO NOTHING
      RETURNING tenant_id, alert_id, rule_id, device_id, severity, raised_at, cleared_at
    ),
    changed AS (
      UPDATE alerts a SET
        peak_value = COALESCE(u.peak_value, a.peak_value), peak_at = COALESCE(u.peak_at, a.peak_at),
        state = CASE WHEN u.cleared_at IS NULL THEN a.state ELSE 'cleared' END,
        cleared_at = COALESCE(u.cleared_at, a.cleared_at),
        clear_reason = CASE WHEN u.cleared_at IS NULL THEN a.clear_reason ELSE 'condition' END,
        clear_value = COALESCE(u.clear_value, a.clear_value)
      FROM unnest(${c((a) => a.tenantId)}::text[], ${c((a) => a.alertId)}::text[], ${c((a) => a.peak?.value ?? null)}::float8[],
                  ${c((a) => iso(a.peak?.time))}::text[]::timestamptz[], ${c((a) => iso(a.cleared?.time))}::text[]::timestamptz[],
                  ${c((a) => a.cleared?.value ?? null)}::float8[])
           AS u(tenant_id, alert_id, peak_value, peak_at, cleared_at, clear_value)
      WHERE a.tenant_id = u.tenant_id AND a.alert_id = u.alert_id AND a.state IN ('active', 'acknowledged')
      RETURNING a.tenant_id, a.alert_id, a.rule_id, a.device_id, a.severity, u.cleared_at
    ),
    saved AS (
      UPDATE alert_rule_states st SET
        breach_since = u.breach_since, breach_samples = u.breach_samples, last_sample_at = u.last_sample_at,
        open_alert_id = CASE WHEN u.fresh AND NOT EXISTS (SELECT 1 FROM raised WHERE raised.alert_id = u.open_alert_id) THEN NULL ELSE u.open_alert_id END,
        open_peak = u.open_peak
      FROM unnest(${s((a) => a.tenantId)}::text[], ${s((a) => a.ruleId)}::text[], ${s((a) => a.deviceId)}::text[],
                  ${s((a) => iso(a.breachSince))}::text[]::timestamptz[], ${s((a) => a.breachSamples)}::int[],
                  ${s((a) => iso(a.lastSampleAt))}::text[]::timestamptz[], ${s((a) => a.open?.alertId ?? null)}::text[],
                  ${s((a) => a.open?.peakValue ?? null)}::float8[], ${s((a) => raised.some((alert) => alert.alertId === a.open?.alertId))}::boolean[])
           AS u(tenant_id, rule_id, device_id, breach_since, breach_samples, last_sample_at, open_alert_id, open_peak, fresh)
      WHERE st.tenant_id = u.tenant_id AND st.rule_id = u.rule_id AND st.device_id = u.device_id
      RETURNING 1
    )
    SELECT tenant_id AS "tenantId", device_id AS "deviceId", alert_id AS "alertId", rule_id AS "ruleId", severity, 'RAISED' AS change, raised_at AS at FROM raised
    UNION ALL
    SELECT tenant_id, device_id, alert_id, rule_id, severity, 'CLEARED', cleared_at FROM raised WHERE cleared_at IS NOT NULL
    UNION ALL
    SELECT tenant_id, device_id, alert_id, rule_id, severity, 'CLEARED', cleared_at FROM changed WHERE cleared_at IS NOT NULL`;
  // \`saved\` is not read: data-modifying CTEs run to completion whether or not the query reads them.
  return rows;
}

/**
 * A manual clear of a threshold alert: forgets it as the open alert of its (rule, device) and
 * starts the breach count again. Runs before the alert's own update, so it takes the state row
 * first, in the same order as evaluation (state, then alert).
 */
export async function forgetOpenAlert(session: TenantSession, key: { tenantId: string; alertId: string }): Promise<void> {
  await session.db.$executeRaw`
    UPDATE alert_rule_states s SET open_alert_id = NULL, open_peak = NULL, breach_since = NULL, breach_samples = 0
    FROM alerts a
    WHERE a.tenant_id = ${key.tenantId} AND a.alert_id = ${key.alertId}
      AND s.tenant_id = a.tenant_id AND s.rule_id = a.rule_id AND s.device_id = a.device_id AND s.open_alert_id = a.alert_id`;
}
