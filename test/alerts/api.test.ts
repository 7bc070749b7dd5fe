import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { closeClients, gqlData, registerDevices, telemetryPublisher } from '../telemetry/support.js';
import { alertsOf, alertsPage, createRule, ruleId } from './support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const UPDATE_RULE = /* GraphQL */ `
  mutation($input: UpdateAlertRuleInput!) {
    updateAlertRule(input: $input) {
      __typename
      ... on UpdateAlertRulePayload { alertRule { ruleId name condition threshold clearThreshold low high hysteresis forSeconds forSamples severity enabled } }
      ... on ValidationError { issues { path code } }
      ... on NotFound { resource key }
    }
  }`;

const DELETE_RULE = /* GraphQL */ `
  mutation($input: DeleteAlertRuleInput!) { deleteAlertRule(input: $input) { __typename ... on DeleteAlertRulePayload { ruleId } ... on NotFound { resource } } }`;

describe('createAlertRule', () => {
  test('returns the rule as a Node, with defaults', async ({ tenant }) => {
    const result = await createRule(app, tenant.token, { name: 'hot', scope: 'TENANT', metric: 'temp', condition: 'ABOVE', threshold: 80 });
    expect(result).toMatchObject({
      __typename: 'CreateAlertRulePayload',
      alertRule: { name: 'hot', kind: 'THRESHOLD', scope: 'TENANT', deviceId: null, groupId: null, metric: 'temp', condition: 'ABOVE', threshold: 80, severity: 'WARNING', enabled: true },
    });
    const node = await gqlData<{ node: { ruleId: string } | null }>(app, tenant.token, `query($id: ID!) { node(id: $id) { ... on AlertRule { ruleId } } }`, { id: result.alertRule!.id });
    expect(node.node?.ruleId).toBe(result.alertRule!.ruleId);
  });

  test.for<[string, Record<string, unknown>, string[], string]>([
    ['a clear threshold on the wrong side', { condition: 'ABOVE', threshold: 80, clearThreshold: 90 }, ['input', 'clearThreshold'], 'INVALID_VALUE'],
    ['OUTSIDE without its band', { condition: 'OUTSIDE', low: 1 }, ['input', 'high'], 'INVALID_VALUE'],
    ['both durations', { condition: 'ABOVE', threshold: 1, forSeconds: 5, forSamples: 5 }, ['input', 'forSamples'], 'INVALID_VALUE'],
    ['a bad metric name', { condition: 'ABOVE', threshold: 1, metric: 'two words' }, ['input', 'metric'], 'INVALID_FORMAT'],
    ['a 300-character name', { condition: 'ABOVE', threshold: 1, name: 'x'.repeat(300) }, ['input', 'name'], 'TOO_BIG'],
    ['a NUL in the name', { condition: 'ABOVE', threshold: 1, name: 'a\u0000b' }, ['input', 'name'], 'NUL_CHARACTER'],
    ['DEVICE scope without deviceId', { condition: 'ABOVE', threshold: 1, scope: 'DEVICE' }, ['input', 'deviceId'], 'INVALID_VALUE'],
    ['OFFLINE without forSeconds', { kind: 'OFFLINE', metric: null }, ['input', 'forSeconds'], 'INVALID_VALUE'],
  ])('refuses %s with a typed ValidationError', async ([, patch, path, code], { tenant }) => {
    const result = await createRule(app, tenant.token, { name: 'r', scope: 'TENANT', metric: 'm', ...patch });
    expect(result.__typename).toBe('ValidationError');
    expect(result.issues).toContainEqual(expect.objectContaining({ path, code }));
    expect((await gqlData<{ alertRules: { totalCount: number } }>(app, tenant.token, `{ alertRules { totalCount } }`)).alertRules.totalCount).toBe(0);
  });

  test('an unknown device or group is NotFound; operators cannot write', async ({ tenant }) => {
    expect(await createRule(app, tenant.token, { name: 'r', scope: 'DEVICE', deviceId: 'ghost', metric: 'm', condition: 'ABOVE', threshold: 1 })).toMatchObject({
      __typename: 'NotFound',
      resource: 'Device',
    });
    expect(await createRule(app, tenant.token, { name: 'r', scope: 'GROUP', groupId: 'ghost', metric: 'm', condition: 'ABOVE', threshold: 1 })).toMatchObject({
      __typename: 'NotFound',
      resource: 'DeviceGroup',
    });
    const operator = await app.gql(tenant.operatorToken, `mutation { createAlertRule(input: { name: "r", scope: TENANT, metric: "m", condition: ABOVE, threshold: 1 }) { __typename } }`);
    expect(operator.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('updateAlertRule and deleteAlertRule', () => {
  test('an update merges over the rule and validates the whole; switching condition family drops the other numbers', async ({ tenant }) => {
    const id = await ruleId(app, tenant.token, { name: 'u', scope: 'TENANT', metric: 'm', condition: 'ABOVE', threshold: 80, clearThreshold: 70, forSamples: 2 });
    const update = async (input: Record<string, unknown>) => (await gqlData<{ updateAlertRule: Record<string, unknown> }>(app, tenant.token, UPDATE_RULE, { input: { ruleId: id, ...input } })).updateAlertRule;
    expect(await update({ threshold: 90, severity: 'CRITICAL' })).toMatchObject({ alertRule: { threshold: 90, clearThreshold: 70, forSamples: 2, severity: 'CRITICAL' } });
    expect(await update({ clearThreshold: 95 })).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'clearThreshold'] }] });
    expect(await update({ forSamples: null, forSeconds: 30 })).toMatchObject({ alertRule: { forSamples: null, forSeconds: 30 } });
    expect(await update({ condition: 'INSIDE', low: 1, high: 5 })).toMatchObject({ alertRule: { condition: 'INSIDE', threshold: null, clearThreshold: null, low: 1, high: 5 } });
    expect(await update({ enabled: false, name: 'renamed' })).toMatchObject({ alertRule: { enabled: false, name: 'renamed' } });
    expect(await gqlData(app, tenant.token, UPDATE_RULE, { input: { ruleId: 'missing', name: 'x' } })).toMatchObject({ updateAlertRule: { __typename: 'NotFound' } });
  });

  test('a disabled rule raises nothing; deleting a rule removes its alerts', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['d1']);
    const id = await ruleId(app, tenant.token, { name: 'd', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1, enabled: false });
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('d1', { metrics: { x: 5 } });
    expect(await alertsOf(app, tenant.token, { ruleId: id })).toEqual([]);
    await gqlData(app, tenant.token, UPDATE_RULE, { input: { ruleId: id, enabled: true } });
    await device.send('d1', { metrics: { x: 6 } });
    expect(await alertsOf(app, tenant.token, { ruleId: id })).toHaveLength(1);
    expect(await gqlData(app, tenant.token, DELETE_RULE, { input: { ruleId: id } })).toEqual({ deleteAlertRule: { __typename: 'DeleteAlertRulePayload', ruleId: id } });
    expect(await alertsOf(app, tenant.token)).toEqual([]);
    expect(await gqlData(app, tenant.token, DELETE_RULE, { input: { ruleId: id } })).toEqual({ deleteAlertRule: { __typename: 'NotFound', resource: 'AlertRule' } });
  });
});

describe('reading alerts', () => {
  test('Query.alerts filters by state, severity, device and rule and pages newest first; Device.alerts and AlertRule.alerts list the same', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['p1', 'p2']);
    const major = await ruleId(app, tenant.token, { name: 'major', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 10, severity: 'MAJOR' });
    const info = await ruleId(app, tenant.token, { name: 'info', scope: 'DEVICE', deviceId: 'p1', metric: 'y', condition: 'BELOW', threshold: 0, severity: 'INFO' });
    const device = await telemetryPublisher(app, tenant.tenantId);
    const t = Date.now() - 600_000;
    await device.send('p1', [{ ts: t - 1_000, metrics: { y: -1 } }, { ts: t, metrics: { x: 11 } }, { ts: t + 1_000, metrics: { x: 1 } }, { ts: t + 2_000, metrics: { x: 12 } }]);
    await device.send('p2', { ts: t + 3_000, metrics: { x: 13 } });

    expect((await alertsOf(app, tenant.token)).map((a) => [a.deviceId, a.severity, a.state, a.value])).toEqual([
      ['p2', 'MAJOR', 'ACTIVE', 13],
      ['p1', 'MAJOR', 'ACTIVE', 12],
      ['p1', 'MAJOR', 'CLEARED', 11],
      ['p1', 'INFO', 'ACTIVE', -1],
    ]);
    expect((await alertsOf(app, tenant.token, { state: ['CLEARED'] })).map((a) => a.value)).toEqual([11]);
    expect((await alertsOf(app, tenant.token, { state: 'ACTIVE', severity: ['INFO'] })).map((a) => a.ruleId)).toEqual([info]);
    expect((await alertsOf(app, tenant.token, { deviceId: 'p2' })).map((a) => a.ruleId)).toEqual([major]);

    const first = await alertsPage(app, tenant.token, { first: 3 });
    expect(first).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
    const rest = await alertsPage(app, tenant.token, { first: 3, after: first.pageInfo.endCursor });
    expect(rest.edges.map((edge) => edge.node.value)).toEqual([-1]);

    const lists = await gqlData<{ device: { alerts: { totalCount: number; edges: Array<{ node: { value: number } }> } }; alertRule: { alerts: { totalCount: number } } }>(
      app,
      tenant.token,
      `query($rule: String!) {
         device(deviceId: "p1") { alerts(first: 10, state: [ACTIVE]) { totalCount edges { node { value } } } }
         alertRule(ruleId: $rule) { alerts { totalCount } }
       }`,
      { rule: major },
    );
    expect(lists.device.alerts).toMatchObject({ totalCount: 2, edges: [{ node: { value: 12 } }, { node: { value: -1 } }] });
    expect(lists.alertRule.alerts.totalCount).toBe(3);
  });

  test('an Alert is a Node, refetchable by its global ID', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['n1']);
    await ruleId(app, tenant.token, { name: 'n', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1 });
    await (await telemetryPublisher(app, tenant.tenantId)).send('n1', { metrics: { x: 2 } });
    const [alert] = await alertsOf(app, tenant.token);
    const node = await gqlData<{ node: { alertId: string; rule: { name: string }; device: { deviceId: string } } }>(
      app,
      tenant.token,
      `query($id: ID!) { node(id: $id) { ... on Alert { alertId rule { name } device { deviceId } } } }`,
      { id: alert!.id },
    );
    expect(node.node).toEqual({ alertId: alert!.alertId, rule: { name: 'n' }, device: { deviceId: 'n1' } });
  });
});
