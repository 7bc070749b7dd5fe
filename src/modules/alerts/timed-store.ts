/**
 * The SQL of the time-based rules: OFFLINE for longer than `for_seconds` (from the connectivity
 * module's presence relation) and a desired twin change not reported back within `for_seconds`
 * (from the twin module's sync relation). Each raise and each clear is one statement over every
 * matching (rule, device); the partial unique index makes raising idempotent, the state guard
 * makes clearing so.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { presenceRelation } from '../connectivity/reads.js';
import { groupMembershipSql, type GroupRecord } from '../groups/membership.js';
import { twinSyncRelation } from '../twin/reads.js';
import type { AlertTransition } from './publish.js';
import type { Severity } from './rules.js';

export type TimedKind = 'offline' | 'twin_not_converged';

/** Narrows an evaluation (tests; a reaction to one device's change). */
export interface TimedScope {
  tenantId?: string;
  deviceId?: string;
}

/** The groups enabled time-based rules are scoped to. */
export async function timedRuleGroups(session: TenantSession, scope: TimedScope): Promise<Array<{ tenantId: string; groupId: string }>> {
  return session.db.$queryRaw`
    SELECT DISTINCT tenant_id AS "tenantId", group_id AS "groupId" FROM alert_rules
    WHERE enabled AND kind <> 'threshold' AND group_id IS NOT NULL AND (${scope.tenantId ?? null}::text IS NULL OR tenant_id = ${scope.tenantId ?? null}::text)`;
}

/** "Device `d` is in the scope of rule `r`": its device, a member of its group, or any device of its tenant. */
export async function ruleCoversDevice(session: TenantSession, groups: readonly GroupRecord[]): Promise<Prisma.Sql> {
  const members: Prisma.Sql[] = [];
  for (const group of groups) {
    members.push(Prisma.sql`(r.tenant_id = ${group.tenantId} AND r.group_id = ${group.groupId} AND ${await groupMembershipSql(session, group)})`);
  }
  const inGroup = members.length > 0 ? Prisma.join(members, ' OR ') : Prisma.sql`FALSE`;
  return Prisma.sql`(r.device_id IS NULL OR d.device_id = r.device_id) AND (r.group_id IS NULL OR ${inGroup})`;
}

function scopeSql(scope: TimedScope, alias: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(${scope.tenantId ?? null}::text IS NULL OR ${alias}.tenant_id = ${scope.tenantId ?? null}::text)
    AND (${scope.deviceId ?? null}::text IS NULL OR ${alias}.device_id = ${scope.deviceId ?? null}::text)`;
}

type Row = { tenantId: string; alertId: string; ruleId: string; deviceId: string; severity: Severity; at: Date };

const transitionsOf = (rows: Row[], change: AlertTransition['change']): AlertTransition[] => rows.map((row) => ({ ...row, change }));

/** What makes each kind due: its relation, its condition, and the facts the alert keeps. */
const KINDS: Record<TimedKind, { relation: () => Prisma.Sql; due: (now: Date) => Prisma.Sql; details: Prisma.Sql; healthy: Prisma.Sql }> = {
  offline: {
    relation: presenceRelation,
    due: (now) => Prisma.sql`x.status = 'OFFLINE' AND x.status_changed_at <= ${now}::timestamptz - make_interval(secs => r.for_seconds::float8)`,
    details: Prisma.sql`jsonb_build_object('offlineSince', x.status_changed_at)`,
    healthy: Prisma.sql`x.status <> 'OFFLINE'`,
  },
  twin_not_converged: {
    relation: twinSyncRelation,
    due: (now) =>
      Prisma.sql`x.desired_updated_at IS NOT NULL AND x.desired_updated_at <= ${now}::timestamptz - make_interval(secs => r.for_seconds::float8) AND NOT x.in_sync`,
    details: Prisma.sql`jsonb_build_object('desiredVersion', x.desired_version, 'desiredAt', x.desired_updated_at)`,
    healthy: Prisma.sql`x.in_sync`,
  },
};

/** Raises an alert for each (rule, device) of `kind` that is due at `now` and has none open; at most `limit`. */
export async function raiseTimedAlerts(
  session: TenantSession,
  kind: TimedKind,
  now: Date,
  groups: readonly GroupRecord[],
  scope: TimedScope,
  limit: number,
): Promise<AlertTransition[]> {
  const spec = KINDS[kind];
  const rows = await session.db.$queryRaw<Row[]>`
    WITH due AS (
      SELECT r.tenant_id, r.rule_id, d.device_id, r.severity, ${spec.details} AS details
      FROM alert_rules r
      JOIN device_registry d ON d.tenant_id = r.tenant_id AND d.decommissioned_at IS NULL
      JOIN ${spec.relation()} x ON x.tenant_id = d.tenant_id AND x.device_id = d.device_id
      WHERE r.enabled AND r.kind = ${kind} AND ${scopeSql(scope, Prisma.raw('d'))} AND ${await ruleCoversDevice(session, groups)} AND ${spec.due(now)}
        AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.tenant_id = r.tenant_id AND a.rule_id = r.rule_id AND a.device_id = d.device_id
                          AND a.state IN ('active', 'acknowledged'))
      ORDER BY r.tenant_id, r.rule_id, d.device_id
      LIMIT ${limit}
    )
    INSERT INTO alerts (tenant_id, rule_id, device_id, severity, raised_at, details)
    SELECT tenant_id, rule_id, device_id, severity, ${now}::timestamptz, details FROM due
    ON CONFLICT (tenant_id, rule_id, device_id) WHERE state IN ('active', 'acknowledged') DO NOTHING
    RETURNING tenant_id AS "tenantId", alert_id AS "alertId", rule_id AS "ruleId", device_id AS "deviceId", severity, raised_at AS "at"`;
  return transitionsOf(rows, 'RAISED');
}

/**
 * Clears the open alerts of `kind` whose condition no longer holds, at `at` (never before they
 * were raised); an OFFLINE alert clears when its device came back, as of then.
 */
export async function clearTimedAlerts(session: TenantSession, kind: TimedKind, at: Date, scope: TimedScope, limit: number): Promise<AlertTransition[]> {
  const spec = KINDS[kind];
  const clearedAt = kind === 'offline' ? Prisma.sql`LEAST(${at}::timestamptz, x.status_changed_at)` : Prisma.sql`${at}::timestamptz`;
  const rows = await session.db.$queryRaw<Row[]>`
    WITH healthy AS (
      SELECT a.tenant_id, a.alert_id, ${clearedAt} AS cleared_at
      FROM alerts a
      JOIN alert_rules r ON r.tenant_id = a.tenant_id AND r.rule_id = a.rule_id AND r.kind = ${kind}
      JOIN ${spec.relation()} x ON x.tenant_id = a.tenant_id AND x.device_id = a.device_id
      WHERE a.state IN ('active', 'acknowledged') AND ${scopeSql(scope, Prisma.raw('a'))} AND ${spec.healthy}
      ORDER BY a.tenant_id, a.alert_id
      LIMIT ${limit}
      FOR UPDATE OF a SKIP LOCKED
    )
    UPDATE alerts a SET state = 'cleared', cleared_at = GREATEST(a.raised_at, h.cleared_at), clear_reason = 'condition'
    FROM healthy h
    WHERE a.tenant_id = h.tenant_id AND a.alert_id = h.alert_id AND a.state IN ('active', 'acknowledged')
    RETURNING a.tenant_id AS "tenantId", a.alert_id AS "alertId", a.rule_id AS "ruleId", a.device_id AS "deviceId", a.severity, a.cleared_at AS "at"`;
  return transitionsOf(rows, 'CLEARED');
}
