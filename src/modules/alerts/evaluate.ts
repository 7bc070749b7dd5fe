/**
 * Threshold rules, evaluated in the transaction that stores the samples (called by the telemetry
 * ingest): a breach and its alert commit together or not at all. Per batch: the candidate rules
 * (none: done), the group membership of the batch's devices when a rule is group-scoped, the
 * (rule, device) state rows locked in key order with their open alerts, the pure evaluation, and
 * one statement for every write.
 */
import { randomUUID } from 'node:crypto';
import type { TenantSession } from '../../db/tenant-session.js';
import type { AppServices } from '../../services.js';
import { findGroup } from '../groups/membership.js';
import { evaluateSamples, type ThresholdRule, type TimedValue } from './conditions.js';
import { publishAlertTransitions } from './publish.js';
import {
  applyEvaluation,
  groupMembers,
  lockStates,
  pairKey,
  thresholdRulesFor,
  type ChangedAlert,
  type NewThresholdAlert,
  type RuleDeviceKey,
  type StoredState,
  type ThresholdRuleRow,
} from './threshold-store.js';

/** A stored sample with a numeric value (booleans as 1/0), as the telemetry module hands it over. */
export interface MetricSample {
  tenantId: string;
  deviceId: string;
  metric: string;
  value: number;
  time: Date;
}

/**
 * Evaluates the enabled threshold rules against newly stored samples, raising, updating and
 * clearing alerts in `session`'s transaction; `alertChanged` events go out after it commits.
 * Pass only samples that were actually inserted, so a redelivered message evaluates nothing.
 */
export async function evaluateThresholdRules(session: TenantSession, services: Pick<AppServices, 'metrics'>, samples: readonly MetricSample[]): Promise<void> {
  if (samples.length === 0) return;
  const pairs = uniqueBy(samples.map((s) => ({ tenantId: s.tenantId, metric: s.metric })), (p) => `${p.tenantId}/${p.metric}`);
  const rules = await thresholdRulesFor(session, pairs);
  if (rules.length === 0) return;

  const targets = await ruleTargets(session, rules, samples);
  if (targets.size === 0) return;
  const keys = [...targets.values()].map((target) => target.key).sort((a, b) => (pairKey(a) < pairKey(b) ? -1 : 1));
  const states = new Map((await lockStates(session, keys)).map((state) => [pairKey(state), state]));

  const raised: NewThresholdAlert[] = [];
  const changed: ChangedAlert[] = [];
  const nextStates: StoredState[] = [];
  for (const { key, rule, values } of targets.values()) {
    const result = evaluateSamples(asThresholdRule(rule), states.get(pairKey(key))!, values, randomUUID);
    nextStates.push({ ...key, ...result.state });
    if (result.changed) changed.push({ ...result.changed, tenantId: key.tenantId });
    for (const alert of result.raised) {
      raised.push({ ...alert, ...key, metric: rule.metric, severity: rule.severity, threshold: rule.threshold, details: ruleDetails(rule) });
    }
  }
  publishAlertTransitions(session, services, await applyEvaluation(session, { raised, changed, states: nextStates }));
}

interface Target {
  key: RuleDeviceKey;
  rule: ThresholdRuleRow;
  values: TimedValue[];
}

/** Every (rule, device) the samples concern, with that device's values of the rule's metric. */
async function ruleTargets(session: TenantSession, rules: readonly ThresholdRuleRow[], samples: readonly MetricSample[]): Promise<Map<string, Target>> {
  const members = await groupMembersOf(session, rules, samples);
  const targets = new Map<string, Target>();
  for (const sample of samples) {
    for (const rule of rules) {
      if (rule.tenantId !== sample.tenantId || rule.metric !== sample.metric) continue;
      if (rule.deviceId !== null && rule.deviceId !== sample.deviceId) continue;
      if (rule.groupId !== null && !members.has(`${rule.tenantId}/${rule.groupId}/${sample.deviceId}`)) continue;
      const key = { tenantId: sample.tenantId, ruleId: rule.ruleId, deviceId: sample.deviceId };
      let target = targets.get(pairKey(key));
      if (!target) targets.set(pairKey(key), (target = { key, rule, values: [] }));
      target.values.push({ value: sample.value, time: sample.time });
    }
  }
  return targets;
}

/** `tenant/group/device` for every batch device that is in a group some rule is scoped to. */
async function groupMembersOf(session: TenantSession, rules: readonly ThresholdRuleRow[], samples: readonly MetricSample[]): Promise<Set<string>> {
  const groups = uniqueBy(
    rules.filter((rule) => rule.groupId !== null).map((rule) => ({ tenantId: rule.tenantId, groupId: rule.groupId! })),
    (g) => `${g.tenantId}/${g.groupId}`,
  );
  if (groups.length === 0) return new Set();
  const checks = [];
  for (const { tenantId, groupId } of groups) {
    const deviceIds = [...new Set(samples.filter((s) => s.tenantId === tenantId).map((s) => s.deviceId))];
    checks.push({ group: await findGroup(session, tenantId, groupId), deviceIds });
  }
  const rows = await groupMembers(session, checks);
  return new Set(rows.map((row) => `${row.tenantId}/${row.groupId}/${row.deviceId}`));
}

export function asThresholdRule(rule: Omit<ThresholdRuleRow, 'tenantId' | 'ruleId' | 'metric' | 'deviceId' | 'groupId' | 'severity'>): ThresholdRule {
  return {
    condition: rule.condition,
    threshold: rule.threshold,
    clearThreshold: rule.clearThreshold,
    rangeLow: rule.rangeLow,
    rangeHigh: rule.rangeHigh,
    hysteresis: rule.hysteresis,
    forSeconds: rule.forSeconds,
    forSamples: rule.forSamples,
  };
}

/** What the alert records of the rule it was raised under (the rule may change later). */
function ruleDetails(rule: ThresholdRuleRow): object {
  const band = rule.condition === 'outside' || rule.condition === 'inside';
  return band
    ? { condition: rule.condition, low: rule.rangeLow, high: rule.rangeHigh, hysteresis: rule.hysteresis ?? 0 }
    : { condition: rule.condition, threshold: rule.threshold, clearThreshold: rule.clearThreshold ?? rule.threshold };
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}
