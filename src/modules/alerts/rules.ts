/**
 * Alert rule definitions: the one validation both createAlertRule and updateAlertRule go through,
 * producing the row's columns. The SQL checks (alert_rules_*) say the same; validating here gives
 * each mistake its own path and message instead of a constraint name.
 */
import { z } from 'zod';
import { idSchema } from '../../kernel/ids.js';
import { metricNameSchema } from '../telemetry/payloads.js';
import type { Condition } from './conditions.js';

export const RULE_KINDS = ['threshold', 'offline', 'twin_not_converged'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const CONDITIONS = ['above', 'below', 'outside', 'inside'] as const satisfies readonly Condition[];
export const SCOPES = ['device', 'group', 'tenant'] as const;
export type RuleScope = (typeof SCOPES)[number];

export const MAX_FOR_SECONDS = 30 * 24 * 3600;
export const MAX_FOR_SAMPLES = 10_000;
/** Thresholds beyond this are typos, and stay exact in float8. */
const MAX_MAGNITUDE = 1e15;

const finite = z.number().min(-MAX_MAGNITUDE).max(MAX_MAGNITUDE);

/** The columns of an alert rule that its definition decides (everything but keys and timestamps). */
export interface RuleDefinition {
  name: string;
  kind: RuleKind;
  deviceId: string | null;
  groupId: string | null;
  metric: string | null;
  condition: Condition | null;
  threshold: number | null;
  clearThreshold: number | null;
  rangeLow: number | null;
  rangeHigh: number | null;
  hysteresis: number | null;
  forSeconds: number | null;
  forSamples: number | null;
  severity: Severity;
  enabled: boolean;
}

export const ruleDefinitionSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(RULE_KINDS),
    scope: z.enum(SCOPES),
    deviceId: idSchema.nullish(),
    groupId: idSchema.nullish(),
    metric: metricNameSchema.nullish(),
    condition: z.enum(CONDITIONS).nullish(),
    threshold: finite.nullish(),
    clearThreshold: finite.nullish(),
    low: finite.nullish(),
    high: finite.nullish(),
    hysteresis: z.number().min(0).max(MAX_MAGNITUDE).nullish(),
    forSeconds: z.number().int().min(1).max(MAX_FOR_SECONDS).nullish(),
    forSamples: z.number().int().min(1).max(MAX_FOR_SAMPLES).nullish(),
    severity: z.enum(SEVERITIES),
    enabled: z.boolean(),
  })
  .superRefine((rule, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const absent = (path: keyof typeof rule, why: string) => {
      if (rule[path] !== null && rule[path] !== undefined) issue(path, why);
    };
    if (rule.scope === 'device' && !rule.deviceId) issue('deviceId', 'a DEVICE rule names its device');
    if (rule.scope === 'group' && !rule.groupId) issue('groupId', 'a GROUP rule names its group');
    if (rule.scope !== 'device') absent('deviceId', `only DEVICE rules name a device`);
    if (rule.scope !== 'group') absent('groupId', `only GROUP rules name a group`);
    if (rule.kind !== 'threshold') {
      for (const field of ['metric', 'condition', 'threshold', 'clearThreshold', 'low', 'high', 'hysteresis', 'forSamples'] as const) {
        absent(field, `${rule.kind.toUpperCase()} rules have no ${field}`);
      }
      if (rule.forSeconds == null) issue('forSeconds', `${rule.kind.toUpperCase()} rules need forSeconds (how long before it raises)`);
      return;
    }
    if (!rule.metric) issue('metric', 'THRESHOLD rules watch a metric');
    if (rule.forSeconds != null && rule.forSamples != null) issue('forSamples', 'give forSeconds or forSamples, not both');
    if (!rule.condition) return issue('condition', 'THRESHOLD rules need a condition');
    if (rule.condition === 'above' || rule.condition === 'below') {
      if (rule.threshold == null) issue('threshold', `${rule.condition.toUpperCase()} needs a threshold`);
      for (const field of ['low', 'high', 'hysteresis'] as const) absent(field, `${rule.condition.toUpperCase()} uses threshold and clearThreshold, not ${field}`);
      if (rule.threshold != null && rule.clearThreshold != null) {
        if (rule.condition === 'above' && rule.clearThreshold > rule.threshold) issue('clearThreshold', 'must be at most threshold (an ABOVE alert clears below it)');
        if (rule.condition === 'below' && rule.clearThreshold < rule.threshold) issue('clearThreshold', 'must be at least threshold (a BELOW alert clears above it)');
      }
      return;
    }
    for (const field of ['threshold', 'clearThreshold'] as const) absent(field, `${rule.condition.toUpperCase()} uses low, high and hysteresis, not ${field}`);
    if (rule.low == null) issue('low', `${rule.condition.toUpperCase()} needs low and high`);
    if (rule.high == null) issue('high', `${rule.condition.toUpperCase()} needs low and high`);
    if (rule.low != null && rule.high != null) {
      if (rule.low >= rule.high) issue('high', 'must be greater than low');
      else if (rule.condition === 'outside' && rule.hysteresis != null && 2 * rule.hysteresis > rule.high - rule.low) {
        issue('hysteresis', 'at most half the band: an OUTSIDE alert clears inside [low + hysteresis, high - hysteresis]');
      }
    }
  })
  .transform(
    (rule): RuleDefinition => ({
      name: rule.name,
      kind: rule.kind,
      deviceId: rule.deviceId ?? null,
      groupId: rule.groupId ?? null,
      metric: rule.metric ?? null,
      condition: rule.condition ?? null,
      threshold: rule.threshold ?? null,
      clearThreshold: rule.clearThreshold ?? null,
      rangeLow: rule.low ?? null,
      rangeHigh: rule.high ?? null,
      hysteresis: rule.hysteresis ?? null,
      forSeconds: rule.forSeconds ?? null,
      forSamples: rule.forSamples ?? null,
      severity: rule.severity,
      enabled: rule.enabled,
    }),
  );

/** The input shape of {@link ruleDefinitionSchema} (GraphQL's, with lowercase enum values). */
export type RuleDefinitionInput = z.input<typeof ruleDefinitionSchema>;

export function scopeOf(rule: { deviceId: string | null; groupId: string | null }): RuleScope {
  return rule.deviceId ? 'device' : rule.groupId ? 'group' : 'tenant';
}

/** A stored rule back in input shape, so an update can merge its patch over it and validate the whole. */
export function definitionAsInput(rule: RuleDefinition): RuleDefinitionInput {
  return {
    name: rule.name,
    kind: rule.kind,
    scope: scopeOf(rule),
    deviceId: rule.deviceId,
    groupId: rule.groupId,
    metric: rule.metric,
    condition: rule.condition,
    threshold: rule.threshold,
    clearThreshold: rule.clearThreshold,
    low: rule.rangeLow,
    high: rule.rangeHigh,
    hysteresis: rule.hysteresis,
    forSeconds: rule.forSeconds,
    forSamples: rule.forSamples,
    severity: rule.severity,
    enabled: rule.enabled,
  };
}

/** What updateAlertRule may change: the condition and its numbers, durations, severity, name, enabled. Kind and scope are fixed. */
export const UPDATABLE_FIELDS = [
  'name',
  'condition',
  'threshold',
  'clearThreshold',
  'low',
  'high',
  'hysteresis',
  'forSeconds',
  'forSamples',
  'severity',
  'enabled',
] as const;
