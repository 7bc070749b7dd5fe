/** GraphQL operations the alerts tests share. */
import type { TestApp } from '../harness/app.js';
import { gqlData } from '../telemetry/support.js';

export const ALERT_FIELDS = /* GraphQL */ `
  id alertId ruleId deviceId state severity metric value threshold peakValue peakAt raisedAt
  acknowledgedAt acknowledgedBy acknowledgeNote clearedAt clearReason clearValue clearedBy clearNote details
`;

const CREATE_RULE = /* GraphQL */ `
  mutation($input: CreateAlertRuleInput!) {
    createAlertRule(input: $input) {
      __typename
      ... on CreateAlertRulePayload { alertRule { id ruleId name kind scope deviceId groupId metric condition threshold clearThreshold low high hysteresis forSeconds forSamples severity enabled } }
      ... on ValidationError { issues { path code message } }
      ... on NotFound { resource key }
    }
  }`;

export type RuleResult = { __typename: string; alertRule?: Record<string, unknown> & { ruleId: string; id: string }; issues?: Array<{ path: string[]; code: string }> };

export async function createRule(app: TestApp, token: string, input: Record<string, unknown>): Promise<RuleResult> {
  return (await gqlData<{ createAlertRule: RuleResult }>(app, token, CREATE_RULE, { input })).createAlertRule;
}

/** Creates a rule that must be valid; returns its ruleId. */
export async function ruleId(app: TestApp, token: string, input: Record<string, unknown>): Promise<string> {
  const result = await createRule(app, token, input);
  if (!result.alertRule) throw new Error(`createAlertRule: ${JSON.stringify(result)}`);
  return result.alertRule.ruleId;
}

export type Alert = {
  id: string;
  alertId: string;
  ruleId: string;
  deviceId: string;
  state: string;
  severity: string;
  metric: string | null;
  value: number | null;
  threshold: number | null;
  peakValue: number | null;
  peakAt: string | null;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgeNote: string | null;
  clearedAt: string | null;
  clearReason: string | null;
  clearValue: number | null;
  clearedBy: string | null;
  clearNote: string | null;
  details: Record<string, unknown>;
};

const ALERTS = /* GraphQL */ `
  query($filter: AlertFilter, $first: Int, $after: String) {
    alerts(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${ALERT_FIELDS} } } }
  }`;

/** Alerts newest first (one page of up to 100). */
export async function alertsOf(app: TestApp, token: string, filter: Record<string, unknown> = {}): Promise<Alert[]> {
  const data = await gqlData<{ alerts: { edges: Array<{ node: Alert }> } }>(app, token, ALERTS, { filter, first: 100 });
  return data.alerts.edges.map((edge) => edge.node);
}

export async function alertsPage(app: TestApp, token: string, variables: Record<string, unknown>) {
  return (await gqlData<{ alerts: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: Alert }> } }>(app, token, ALERTS, variables)).alerts;
}

const ACKNOWLEDGE = /* GraphQL */ `
  mutation($input: AcknowledgeAlertInput!) {
    acknowledgeAlert(input: $input) {
      __typename
      ... on AcknowledgeAlertPayload { alert { ${ALERT_FIELDS} } }
      ... on AlertNotOpen { alertId state code }
      ... on NotFound { resource key }
    }
  }`;

export async function acknowledge(app: TestApp, token: string, alertId: string, note?: string): Promise<{ __typename: string; alert?: Alert; state?: string }> {
  return (await gqlData<{ acknowledgeAlert: { __typename: string; alert?: Alert } }>(app, token, ACKNOWLEDGE, { input: { alertId, note } })).acknowledgeAlert;
}

const CLEAR = /* GraphQL */ `
  mutation($input: ClearAlertInput!) {
    clearAlert(input: $input) { __typename ... on ClearAlertPayload { alert { ${ALERT_FIELDS} } } ... on NotFound { resource key } }
  }`;

export async function clearByHand(app: TestApp, token: string, alertId: string, note?: string): Promise<{ __typename: string; alert?: Alert }> {
  return (await gqlData<{ clearAlert: { __typename: string; alert?: Alert } }>(app, token, CLEAR, { input: { alertId, note } })).clearAlert;
}

export const ALERT_CHANGED = /* GraphQL */ `
  subscription($deviceId: String, $groupId: String, $severities: [AlertSeverity!]) {
    alertChanged(deviceId: $deviceId, groupId: $groupId, severities: $severities) {
      change alertId ruleId deviceId severity occurredAt alert { state value peakValue } device { deviceId }
    }
  }`;

export type AlertChangedEvent = {
  alertChanged: {
    change: string;
    alertId: string;
    ruleId: string;
    deviceId: string;
    severity: string;
    occurredAt: string;
    alert: { state: string; value: number | null; peakValue: number | null } | null;
    device: { deviceId: string } | null;
  };
};
