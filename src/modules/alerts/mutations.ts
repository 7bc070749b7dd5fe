import { builder } from '../../graphql/builder.js';
import { ErrorInterface } from '../../graphql/errors.js';
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { AlertNotOpenError } from './errors.js';
import { AlertConditionEnum, AlertRef, AlertRuleKindEnum, AlertRuleRef, AlertRuleScopeEnum, AlertSeverityEnum, AlertStateEnum } from './schema.js';
import { acknowledgeAlert, clearAlert, createAlertRule, deleteAlertRule, updateAlertRule } from './service.js';
import type { AlertKey, RuleKey } from './store.js';

builder.objectType(AlertNotOpenError, {
  name: 'AlertNotOpen',
  description: 'The alert has cleared: it can no longer be acknowledged',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof AlertNotOpenError,
  fields: (t) => ({
    alertId: t.exposeString('alertId'),
    state: t.field({ type: AlertStateEnum, resolve: (error) => error.state }),
  }),
});

const CreateAlertRuleInput = builder.inputType('CreateAlertRuleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    kind: t.field({ type: AlertRuleKindEnum, defaultValue: 'threshold' }),
    scope: t.field({ type: AlertRuleScopeEnum, required: true }),
    deviceId: t.string({ description: 'DEVICE scope' }),
    groupId: t.string({ description: 'GROUP scope (static or dynamic)' }),
    metric: t.string({ description: 'THRESHOLD: the metric watched' }),
    condition: t.field({ type: AlertConditionEnum, description: 'THRESHOLD' }),
    threshold: t.float({ description: 'ABOVE / BELOW' }),
    clearThreshold: t.float({ description: 'ABOVE / BELOW hysteresis: clears only once back past it (default threshold)' }),
    low: t.float({ description: 'OUTSIDE / INSIDE' }),
    high: t.float({ description: 'OUTSIDE / INSIDE' }),
    hysteresis: t.float({ description: 'OUTSIDE / INSIDE, in the metric’s unit (default 0)' }),
    forSeconds: t.int({ description: 'THRESHOLD: breaching this long before raising; OFFLINE / TWIN_NOT_CONVERGED: required, the duration' }),
    forSamples: t.int({ description: 'THRESHOLD: this many consecutive breaching samples before raising' }),
    severity: t.field({ type: AlertSeverityEnum, defaultValue: 'warning' }),
    enabled: t.boolean({ defaultValue: true }),
  }),
});

const UpdateAlertRuleInput = builder.inputType('UpdateAlertRuleInput', {
  description: 'Omitted fields stay as they are; null clears an optional one. Kind and scope cannot change.',
  fields: (t) => ({
    ruleId: t.string({ required: true }),
    name: t.string(),
    condition: t.field({ type: AlertConditionEnum }),
    threshold: t.float(),
    clearThreshold: t.float(),
    low: t.float(),
    high: t.float(),
    hysteresis: t.float(),
    forSeconds: t.int(),
    forSamples: t.int(),
    severity: t.field({ type: AlertSeverityEnum }),
    enabled: t.boolean(),
  }),
});

const RuleIdInput = (name: string) => builder.inputType(name, { fields: (t) => ({ ruleId: t.string({ required: true }) }) });
const AlertActionInput = (name: string) =>
  builder.inputType(name, { fields: (t) => ({ alertId: t.string({ required: true }), note: t.string({ description: 'At most 1,000 characters' }) }) });

const rulePayload = (name: string) =>
  builder.objectRef<RuleKey>(name).implement({
    fields: (t) => ({
      alertRule: t.prismaField({
        type: AlertRuleRef,
        resolve: (query, key, _args, ctx) => ctx.session.db.alertRule.findUniqueOrThrow({ ...query, where: { tenantId_ruleId: key } }),
      }),
    }),
  });

const alertPayload = (name: string) =>
  builder.objectRef<AlertKey>(name).implement({
    fields: (t) => ({
      alert: t.prismaField({
        type: AlertRef,
        resolve: (query, key, _args, ctx) => ctx.session.db.alert.findUniqueOrThrow({ ...query, where: { tenantId_alertId: key } }),
      }),
    }),
  });

const DeleteAlertRulePayload = builder.objectRef<RuleKey>('DeleteAlertRulePayload').implement({
  fields: (t) => ({ ruleId: t.exposeString('ruleId', { description: 'The rule deleted, with its alerts' }) }),
});

builder.mutationFields((t) => ({
  createAlertRule: t.field({
    type: rulePayload('CreateAlertRulePayload'),
    description: 'Creates an alert rule: a THRESHOLD on a metric, a device OFFLINE for too long, or a twin not converged in time',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'CreateAlertRuleResult' } },
    args: { input: t.arg({ type: CreateAlertRuleInput, required: true }) },
    resolve: (_root, args, ctx) => createAlertRule(ctx.session, args.input),
  }),
  updateAlertRule: t.field({
    type: rulePayload('UpdateAlertRulePayload'),
    description: "Changes a rule's name, condition, thresholds, durations, severity or enabled flag",
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'UpdateAlertRuleResult' } },
    args: { input: t.arg({ type: UpdateAlertRuleInput, required: true }) },
    resolve: (_root, args, ctx) => updateAlertRule(ctx.session, args.input),
  }),
  deleteAlertRule: t.field({
    type: DeleteAlertRulePayload,
    description: 'Deletes a rule and the alerts raised under it',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'DeleteAlertRuleResult' } },
    args: { input: t.arg({ type: RuleIdInput('DeleteAlertRuleInput'), required: true }) },
    resolve: (_root, args, ctx) => deleteAlertRule(ctx.session, args.input.ruleId),
  }),
  acknowledgeAlert: t.field({
    type: alertPayload('AcknowledgeAlertPayload'),
    description: 'ACTIVE → ACKNOWLEDGED, with an optional note; an acknowledged alert stays as it is',
    errors: { types: [AlertNotOpenError, ValidationError, NotFoundError], directResult: true, union: { name: 'AcknowledgeAlertResult' } },
    args: { input: t.arg({ type: AlertActionInput('AcknowledgeAlertInput'), required: true }) },
    resolve: (_root, args, ctx) => acknowledgeAlert(ctx.session, ctx.services, args.input),
  }),
  clearAlert: t.field({
    type: alertPayload('ClearAlertPayload'),
    description: 'Clears an open alert by hand (reason MANUAL); a cleared alert stays as it is',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'ClearAlertResult' } },
    args: { input: t.arg({ type: AlertActionInput('ClearAlertInput'), required: true }) },
    resolve: (_root, args, ctx) => clearAlert(ctx.session, ctx.services, args.input),
  }),
}));
