/**
 * Alert rules and alerts over a tenant transaction: permissions first, then the rule validation,
 * then single guarded statements. Acknowledging or clearing twice is harmless (the second does
 * nothing and publishes nothing).
 */
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import type { TenantScope, TenantSession } from '../../db/tenant-session.js';
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { isForeignKeyViolation } from '../../kernel/sql-errors.js';
import { parseInput } from '../../kernel/validation.js';
import type { AppServices } from '../../services.js';
import { findGroup, groupMemberKeys } from '../groups/membership.js';
import { ensureTenant, requireTenant, requireWriter } from '../tenants/service.js';
import { AlertNotOpenError } from './errors.js';
import { publishAlertTransitions } from './publish.js';
import { forgetOpenAlert } from './threshold-store.js';
import { definitionAsInput, ruleDefinitionSchema, UPDATABLE_FIELDS } from './rules.js';
import { acknowledgeAlertRow, alertState, clearAlertRow, deleteRule, insertRule, lockRule, updateRule, type AlertKey, type AlertRow, type RuleKey } from './store.js';

const RULE_DEFAULTS = { kind: 'threshold', severity: 'warning', enabled: true } as const;

/** Creates an alert rule. A DEVICE rule's device and a GROUP rule's group must exist in the tenant. */
export async function createAlertRule(session: TenantSession, rawInput: Record<string, unknown>): Promise<RuleKey> {
  const tenantId = requireWriter(session.scope);
  const rule = parseInput(ruleDefinitionSchema, { ...RULE_DEFAULTS, ...withoutNulls(rawInput) });
  if (rule.groupId) await findGroup(session, tenantId, rule.groupId);
  await ensureTenant(session, tenantId);
  try {
    return await session.savepoint(() => insertRule(session, tenantId, rule));
  } catch (error) {
    // The only reference left unchecked above is the device's.
    if (isForeignKeyViolation(error) && rule.deviceId) throw new NotFoundError('Device', rule.deviceId);
    throw error;
  }
}

/**
 * Changes a rule's name, condition and numbers, durations, severity or enabled flag: omitted fields
 * stay, `null` clears an optional one. The merged rule is validated whole; kind and scope never change.
 * Open alerts stay open and are evaluated against the new definition from the next sample on.
 */
export async function updateAlertRule(session: TenantSession, rawInput: { ruleId: string } & Record<string, unknown>): Promise<RuleKey> {
  const tenantId = requireWriter(session.scope);
  const ruleId = parseInput(idSchema, rawInput.ruleId, ['input', 'ruleId']);
  const key = { tenantId, ruleId };
  const current = await lockRule(session, key);
  if (!current) throw new NotFoundError('AlertRule', ruleId);
  const merged: Record<string, unknown> = { ...definitionAsInput(current) };
  for (const field of UPDATABLE_FIELDS) if (rawInput[field] !== undefined) merged[field] = rawInput[field];
  // A change of condition family drops the numbers of the other family, unless given again.
  if (rawInput['condition'] !== undefined && rawInput['condition'] !== current.condition) {
    const band = rawInput['condition'] === 'outside' || rawInput['condition'] === 'inside';
    for (const field of band ? (['threshold', 'clearThreshold'] as const) : (['low', 'high', 'hysteresis'] as const)) {
      if (rawInput[field] === undefined) merged[field] = null;
    }
  }
  await updateRule(session, key, parseInput(ruleDefinitionSchema, merged));
  return key;
}

/** Deletes a rule together with its alerts. */
export async function deleteAlertRule(session: TenantSession, rawRuleId: string): Promise<RuleKey> {
  const tenantId = requireWriter(session.scope);
  const ruleId = parseInput(idSchema, rawRuleId, ['input', 'ruleId']);
  if (!(await deleteRule(session, { tenantId, ruleId }))) throw new NotFoundError('AlertRule', ruleId);
  return { tenantId, ruleId };
}

const noteSchema = z.string().max(1_000).nullish();

function alertKeyOf(scope: TenantScope, rawAlertId: string): AlertKey {
  return { tenantId: requireWriter(scope), alertId: parseInput(idSchema, rawAlertId, ['input', 'alertId']) };
}

/**
 * ACTIVE → ACKNOWLEDGED, with who and an optional note. An alert already ACKNOWLEDGED stays as it
 * is; a CLEARED one is `AlertNotOpen`.
 */
export async function acknowledgeAlert(session: TenantSession, services: Pick<AppServices, 'metrics'>, input: { alertId: string; note?: string | null }): Promise<AlertKey> {
  const key = alertKeyOf(session.scope, input.alertId);
  const note = parseInput(noteSchema, input.note, ['input', 'note']) ?? null;
  const row = await acknowledgeAlertRow(session, key, session.scope.actorId, note);
  if (row) return published(session, services, row, 'ACKNOWLEDGED');
  const state = await alertState(session, key);
  if (state === null) throw new NotFoundError('Alert', key.alertId);
  if (state === 'cleared') throw new AlertNotOpenError(key.alertId, state);
  return key;
}

/** ACTIVE or ACKNOWLEDGED → CLEARED by hand (reason MANUAL). Clearing a CLEARED alert changes nothing. */
export async function clearAlert(session: TenantSession, services: Pick<AppServices, 'metrics'>, input: { alertId: string; note?: string | null }): Promise<AlertKey> {
  const key = alertKeyOf(session.scope, input.alertId);
  const note = parseInput(noteSchema, input.note, ['input', 'note']) ?? null;
  await forgetOpenAlert(session, key);
  const row = await clearAlertRow(session, key, session.scope.actorId, note);
  if (row) return published(session, services, row, 'CLEARED');
  if ((await alertState(session, key)) === null) throw new NotFoundError('Alert', key.alertId);
  return key;
}

function published(session: TenantSession, services: Pick<AppServices, 'metrics'>, row: AlertRow, change: 'ACKNOWLEDGED' | 'CLEARED'): AlertKey {
  publishAlertTransitions(session, services, [{ ...row, change }]);
  return { tenantId: row.tenantId, alertId: row.alertId };
}

export interface AlertFilter {
  state?: readonly string[] | null;
  severity?: readonly string[] | null;
  deviceId?: string | null;
  groupId?: string | null;
  ruleId?: string | null;
  tenantId?: string | null;
}

const filterSchema = z.object({
  state: z.array(z.string()).max(3).nullish(),
  severity: z.array(z.string()).max(5).nullish(),
  deviceId: idSchema.nullish(),
  groupId: idSchema.nullish(),
  ruleId: idSchema.nullish(),
  tenantId: idSchema.nullish(),
});

/**
 * The Prisma `where` of `Query.alerts(filter)`. A group narrows to its current members: a static
 * group by its member rows (a relation filter in the same statement), a dynamic one by the member
 * list its filter resolves to.
 */
export async function alertListWhere(session: TenantSession, rawFilter: AlertFilter | null | undefined): Promise<Prisma.AlertWhereInput> {
  const filter = parseInput(filterSchema, rawFilter ?? {}, ['filter']);
  const scope = session.scope;
  const tenantId = scope.role === 'operator' ? (filter.tenantId ?? undefined) : requireTenant(scope);
  const where: Prisma.AlertWhereInput = {
    ...(tenantId && { tenantId }),
    ...(filter.state?.length && { state: { in: [...filter.state] } }),
    ...(filter.severity?.length && { severity: { in: [...filter.severity] } }),
    ...(filter.deviceId && { deviceId: filter.deviceId }),
    ...(filter.ruleId && { ruleId: filter.ruleId }),
  };
  if (!filter.groupId) return where;
  if (!tenantId) throw ValidationError.single(['filter', 'tenantId'], 'a group belongs to one tenant: name it', 'INVALID_VALUE');
  const group = await findGroup(session, tenantId, filter.groupId);
  if (group.groupType === 'static') return { ...where, device: { groupMemberships: { some: { groupId: group.groupId } } } };
  const members = await groupMemberKeys(session, tenantId, group.groupId);
  const deviceIds = members.map((member) => member.deviceId).filter((deviceId) => !filter.deviceId || deviceId === filter.deviceId);
  return { ...where, deviceId: { in: deviceIds } };
}

/** The input with GraphQL's explicit nulls dropped, so defaults apply to them too. */
function withoutNulls<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined)) as Partial<T>;
}
