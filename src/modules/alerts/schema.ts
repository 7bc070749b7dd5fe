import type { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { namedConnection } from '../../graphql/connections.js';
import { parseDeviceKey } from '../../kernel/device-key.js';
import { lookupTenant } from '../tenants/service.js';
import { scopeOf } from './rules.js';
import { alertListWhere } from './service.js';

export const AlertSeverityEnum = builder.enumType('AlertSeverity', {
  values: {
    CRITICAL: { value: 'critical' },
    MAJOR: { value: 'major' },
    MINOR: { value: 'minor' },
    WARNING: { value: 'warning' },
    INFO: { value: 'info' },
  } as const,
});

export const AlertStateEnum = builder.enumType('AlertState', {
  values: {
    ACTIVE: { value: 'active', description: 'Raised, not yet acknowledged' },
    ACKNOWLEDGED: { value: 'acknowledged', description: 'Someone took it; still open until the condition clears' },
    CLEARED: { value: 'cleared', description: 'The condition cleared (past the hysteresis), or someone cleared it' },
  } as const,
});

export const AlertConditionEnum = builder.enumType('AlertCondition', {
  values: {
    ABOVE: { value: 'above', description: 'value > threshold; clears at value ≤ clearThreshold (default threshold)' },
    BELOW: { value: 'below', description: 'value < threshold; clears at value ≥ clearThreshold (default threshold)' },
    OUTSIDE: { value: 'outside', description: 'value < low or value > high; clears inside [low + hysteresis, high - hysteresis]' },
    INSIDE: { value: 'inside', description: 'low ≤ value ≤ high; clears below low - hysteresis or above high + hysteresis' },
  } as const,
});

export const AlertRuleKindEnum = builder.enumType('AlertRuleKind', {
  values: {
    THRESHOLD: { value: 'threshold', description: 'A condition on a metric, evaluated as samples arrive' },
    OFFLINE: { value: 'offline', description: 'The device has been OFFLINE for longer than forSeconds' },
    TWIN_NOT_CONVERGED: { value: 'twin_not_converged', description: 'A desired twin change not reported back within forSeconds' },
  } as const,
});

export const AlertRuleScopeEnum = builder.enumType('AlertRuleScope', {
  values: {
    DEVICE: { value: 'device', description: 'One device (deviceId)' },
    GROUP: { value: 'group', description: 'The current members of a group (groupId)' },
    TENANT: { value: 'tenant', description: 'Every device of the tenant' },
  } as const,
});

export const AlertClearReasonEnum = builder.enumType('AlertClearReason', {
  values: {
    CONDITION: { value: 'condition', description: 'The condition cleared' },
    MANUAL: { value: 'manual', description: 'clearAlert' },
  } as const,
});

/** A stored lower-case value as its enum's value type (the CHECK constraints guarantee the set). */
const as = <T extends string>(value: string | null): T | null => value as T | null;

/** `tenant/id` global ID bodies (IDs never contain `/`). */
function tenantScopedId(id: string): { tenantId: string; id: string } {
  const key = parseDeviceKey(id);
  return { tenantId: key?.tenantId ?? '', id: key?.deviceId ?? '' };
}

export const AlertRuleRef = builder.prismaNode('AlertRule', {
  nullable: true,
  id: { resolve: (rule) => `${rule.tenantId}/${rule.ruleId}` },
  findUnique: (id) => {
    const key = tenantScopedId(id);
    return { tenantId_ruleId: { tenantId: key.tenantId, ruleId: key.id } };
  },
  fields: (t) => ({
    ruleId: t.exposeString('ruleId'),
    tenantId: t.exposeString('tenantId'),
    name: t.exposeString('name'),
    kind: t.field({ type: AlertRuleKindEnum, resolve: (rule) => as<'threshold' | 'offline' | 'twin_not_converged'>(rule.kind)! }),
    scope: t.field({ type: AlertRuleScopeEnum, select: { deviceId: true, groupId: true }, resolve: (rule) => scopeOf(rule) }),
    deviceId: t.exposeString('deviceId', { nullable: true }),
    device: t.relation('device', { nullable: true }),
    groupId: t.exposeString('groupId', { nullable: true }),
    metric: t.exposeString('metric', { nullable: true }),
    condition: t.field({ type: AlertConditionEnum, nullable: true, resolve: (rule) => as<'above' | 'below' | 'outside' | 'inside'>(rule.condition) }),
    threshold: t.exposeFloat('threshold', { nullable: true }),
    clearThreshold: t.exposeFloat('clearThreshold', { nullable: true }),
    low: t.exposeFloat('rangeLow', { nullable: true }),
    high: t.exposeFloat('rangeHigh', { nullable: true }),
    hysteresis: t.exposeFloat('hysteresis', { nullable: true }),
    forSeconds: t.exposeInt('forSeconds', { nullable: true }),
    forSamples: t.exposeInt('forSamples', { nullable: true }),
    severity: t.field({ type: AlertSeverityEnum, resolve: (rule) => as<'critical' | 'major' | 'minor' | 'warning' | 'info'>(rule.severity)! }),
    enabled: t.exposeBoolean('enabled'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const AlertRef = builder.prismaNode('Alert', {
  nullable: true,
  id: { resolve: (alert) => `${alert.tenantId}/${alert.alertId}` },
  findUnique: (id) => {
    const key = tenantScopedId(id);
    return { tenantId_alertId: { tenantId: key.tenantId, alertId: key.id } };
  },
  fields: (t) => ({
    alertId: t.exposeString('alertId'),
    tenantId: t.exposeString('tenantId'),
    ruleId: t.exposeString('ruleId'),
    rule: t.relation('rule'),
    deviceId: t.exposeString('deviceId'),
    device: t.relation('device'),
    state: t.field({ type: AlertStateEnum, resolve: (alert) => as<'active' | 'acknowledged' | 'cleared'>(alert.state)! }),
    severity: t.field({ type: AlertSeverityEnum, resolve: (alert) => as<'critical' | 'major' | 'minor' | 'warning' | 'info'>(alert.severity)! }),
    metric: t.exposeString('metric', { nullable: true }),
    value: t.exposeFloat('value', { nullable: true, description: 'The sample value that raised it (THRESHOLD rules)' }),
    threshold: t.exposeFloat('threshold', { nullable: true, description: 'The threshold when raised (ABOVE/BELOW)' }),
    peakValue: t.exposeFloat('peakValue', { nullable: true, description: 'The worst value while it was open' }),
    peakAt: t.expose('peakAt', { type: 'DateTime', nullable: true }),
    raisedAt: t.expose('raisedAt', { type: 'DateTime', description: 'The time of the sample that raised it, or of the evaluation' }),
    acknowledgedAt: t.expose('acknowledgedAt', { type: 'DateTime', nullable: true }),
    acknowledgedBy: t.exposeString('acknowledgedBy', { nullable: true }),
    acknowledgeNote: t.exposeString('acknowledgeNote', { nullable: true }),
    clearedAt: t.expose('clearedAt', { type: 'DateTime', nullable: true }),
    clearReason: t.field({ type: AlertClearReasonEnum, nullable: true, resolve: (alert) => as<'condition' | 'manual'>(alert.clearReason) }),
    clearValue: t.exposeFloat('clearValue', { nullable: true, description: 'The sample value that cleared it' }),
    clearedBy: t.exposeString('clearedBy', { nullable: true }),
    clearNote: t.exposeString('clearNote', { nullable: true }),
    details: t.expose('details', { type: 'JSONObject', description: 'The rule as raised (condition, thresholds), offlineSince, desiredVersion' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

/** Every list of alerts: Query.alerts, Device.alerts, AlertRule.alerts. */
export const AlertsConnection = namedConnection(AlertRef, 'Alerts');
export const AlertRulesConnection = namedConnection(AlertRuleRef, 'AlertRules');

const NEWEST_FIRST: Prisma.AlertOrderByWithRelationInput[] = [{ raisedAt: 'desc' }, { alertId: 'desc' }];

const AlertFilterInput = builder.inputType('AlertFilter', {
  fields: (t) => ({
    state: t.field({ type: [AlertStateEnum], description: 'In one of these states' }),
    severity: t.field({ type: [AlertSeverityEnum], description: 'Of one of these severities' }),
    deviceId: t.string(),
    groupId: t.string({ description: "Of the group's current members" }),
    ruleId: t.string(),
    tenantId: t.string({ description: 'Operators only: restrict to one tenant' }),
  }),
});

builder.prismaObjectField('Device', 'alerts', (t) =>
  t.relatedConnection(
    'alerts',
    {
      cursor: 'tenantId_alertId',
      description: "The device's alerts, newest first",
      args: {
        state: t.arg({ type: [AlertStateEnum], description: 'In one of these states' }),
        severity: t.arg({ type: [AlertSeverityEnum], description: 'Of one of these severities' }),
      },
      query: (args) => ({
        where: { ...(args.state?.length && { state: { in: args.state } }), ...(args.severity?.length && { severity: { in: args.severity } }) },
        orderBy: NEWEST_FIRST,
      }),
      totalCount: true,
    },
    AlertsConnection,
  ),
);

builder.prismaObjectField(AlertRuleRef, 'alerts', (t) =>
  t.relatedConnection('alerts', { cursor: 'tenantId_alertId', description: 'Alerts raised under this rule, newest first', query: { orderBy: NEWEST_FIRST }, totalCount: true }, AlertsConnection),
);

builder.queryFields((t) => ({
  alerts: t.prismaConnection(
    {
      type: 'Alert',
      cursor: 'tenantId_alertId',
      defaultSize: 50,
      maxSize: 500,
      description: "The tenant's alerts, newest first",
      args: { filter: t.arg({ type: AlertFilterInput }) },
      resolve: async (query, _root, args, ctx) =>
        ctx.session.db.alert.findMany({ ...query, relationLoadStrategy: 'join', where: await alertListWhere(ctx.session, args.filter), orderBy: NEWEST_FIRST }),
      totalCount: async (_root, args, ctx) => ctx.session.db.alert.count({ where: await alertListWhere(ctx.session, args.filter) }),
    },
    AlertsConnection,
  ),
  alertRules: t.prismaConnection(
    {
      type: 'AlertRule',
      cursor: 'tenantId_ruleId',
      defaultSize: 50,
      maxSize: 500,
      description: "The tenant's alert rules, by name",
      args: { kind: t.arg({ type: AlertRuleKindEnum }), deviceId: t.arg.string(), groupId: t.arg.string() },
      resolve: (query, _root, args, ctx) =>
        ctx.session.db.alertRule.findMany({
          ...query,
          where: {
            tenantId: lookupTenant(ctx.scope, null),
            ...(args.kind && { kind: args.kind }),
            ...(args.deviceId && { deviceId: args.deviceId }),
            ...(args.groupId && { groupId: args.groupId }),
          },
          orderBy: [{ name: 'asc' }, { ruleId: 'asc' }],
        }),
      totalCount: (_root, args, ctx) =>
        ctx.session.db.alertRule.count({
          where: {
            tenantId: lookupTenant(ctx.scope, null),
            ...(args.kind && { kind: args.kind }),
            ...(args.deviceId && { deviceId: args.deviceId }),
            ...(args.groupId && { groupId: args.groupId }),
          },
        }),
    },
    AlertRulesConnection,
  ),
  alertRule: t.prismaField({
    type: 'AlertRule',
    nullable: true,
    description: "A rule of the caller's tenant; null when it does not exist",
    args: { ruleId: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.session.db.alertRule.findUnique({ ...query, where: { tenantId_ruleId: { tenantId: lookupTenant(ctx.scope, null), ruleId: args.ruleId } } }),
  }),
}));
