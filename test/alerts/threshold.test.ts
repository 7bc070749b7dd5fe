import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { nextListener } from '../harness/listeners.js';
import { subscribe, wsClient } from '../harness/ws.js';
import { closeClients, gqlData, registerDevices, seedStaticGroup, telemetryPublisher } from '../telemetry/support.js';
import { acknowledge, ALERT_CHANGED, alertsOf, clearByHand, ruleId, type AlertChangedEvent } from './support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const t0 = Date.now() - 3_600_000;
/** Readings one second apart, from an hour ago: the order of sample time is the order sent. */
const readings = (metric: string, values: Array<number | boolean>, from = 0) => values.map((value, i) => ({ ts: t0 + (from + i) * 1000, metrics: { [metric]: value } }));
const iso = (second: number) => new Date(t0 + second * 1000).toISOString();

describe('threshold rules', () => {
  test('raises once, stays quiet while the value hovers in the hysteresis band, keeps the peak, clears past it', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['hot']);
    const rule = await ruleId(app, tenant.token, { name: 'hot', scope: 'DEVICE', deviceId: 'hot', metric: 'temp', condition: 'ABOVE', threshold: 80, clearThreshold: 75, severity: 'MAJOR' });
    const ws = wsClient(app.port, tenant.token);
    const listening = nextListener(app, 'alertChanged', tenant.tenantId);
    const events = subscribe<AlertChangedEvent>(ws, ALERT_CHANGED, { deviceId: 'hot' });
    await listening;
    const device = await telemetryPublisher(app, tenant.tenantId);

    // One message per reading, so each is its own transaction, as they arrive from a real device.
    for (const reading of readings('temp', [70, 85, 78, 76, 90, 80, 75.5])) await device.send('hot', reading);
    const [open] = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(open).toMatchObject({ state: 'ACTIVE', severity: 'MAJOR', deviceId: 'hot', metric: 'temp', value: 85, threshold: 80, peakValue: 90, peakAt: iso(4), raisedAt: iso(1) });
    expect(open!.details).toEqual({ condition: 'above', threshold: 80, clearThreshold: 75 });

    await device.send('hot', readings('temp', [75], 7)[0]);
    const alerts = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'CLEARED', clearReason: 'CONDITION', clearValue: 75, clearedAt: iso(7), peakValue: 90 });

    // RAISED then CLEARED, and nothing for the readings in between.
    expect((await events.next()).alertChanged).toMatchObject({ change: 'RAISED', ruleId: rule, severity: 'MAJOR', device: { deviceId: 'hot' } });
    expect((await events.next()).alertChanged).toMatchObject({ change: 'CLEARED', alertId: open!.alertId, alert: { state: 'CLEARED', peakValue: 90 } });
    await events.close();
    await ws.dispose();
  });

  test.for<[string, Record<string, unknown>, Array<number | boolean>, number[]]>([
    ['BELOW with hysteresis', { condition: 'BELOW', threshold: 10, clearThreshold: 12 }, [11, 9, 11, 8, 12.5, 9.5], [9, 9.5]],
    ['OUTSIDE a band', { condition: 'OUTSIDE', low: 10, high: 20, hysteresis: 1 }, [15, 21, 19.5, 25, 15, 9], [21, 9]],
    ['INSIDE a band', { condition: 'INSIDE', low: 10, high: 20, hysteresis: 2 }, [5, 12, 21, 23, 15], [12, 15]],
    ['ABOVE on a boolean (true is 1)', { condition: 'ABOVE', threshold: 0.5 }, [false, true, true, false, true], [1, 1]],
  ])('%s', async ([, condition, values, raisedBy], { tenant }) => {
    await registerDevices(app, tenant.token, ['c1']);
    const rule = await ruleId(app, tenant.token, { name: 'c', scope: 'TENANT', metric: 'm', severity: 'MINOR', ...condition });
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('c1', readings('m', values));
    const alerts = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(alerts.map((alert) => alert.value).reverse()).toEqual(raisedBy);
    expect(alerts.filter((alert) => alert.state !== 'CLEARED')).toHaveLength(1);
  });

  test('forSamples: only N consecutive breaching samples raise; a hover starts the count again, also across messages', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['d1']);
    const rule = await ruleId(app, tenant.token, { name: 'n', scope: 'TENANT', metric: 'p', condition: 'ABOVE', threshold: 50, forSamples: 3 });
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('d1', readings('p', [51, 52, 40, 53]));
    expect(await alertsOf(app, tenant.token, { ruleId: rule })).toEqual([]);
    await device.send('d1', readings('p', [54], 4)[0]);
    expect(await alertsOf(app, tenant.token, { ruleId: rule })).toEqual([]);
    await device.send('d1', readings('p', [55], 5)[0]);
    expect(await alertsOf(app, tenant.token, { ruleId: rule })).toMatchObject([{ state: 'ACTIVE', value: 55, raisedAt: iso(5) }]);
  });

  test('forSeconds: raises only once breaching continuously for the duration (by sample time)', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['d2']);
    const rule = await ruleId(app, tenant.token, { name: 's', scope: 'TENANT', metric: 'p', condition: 'ABOVE', threshold: 50, forSeconds: 10 });
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('d2', [0, 5, 9].map((second) => ({ ts: t0 + second * 1000, metrics: { p: 60 } })));
    expect(await alertsOf(app, tenant.token, { ruleId: rule })).toEqual([]);
    await device.send('d2', { ts: t0 + 10_000, metrics: { p: 61 } });
    expect(await alertsOf(app, tenant.token, { ruleId: rule })).toMatchObject([{ value: 61, raisedAt: iso(10) }]);
  });

  test('acknowledge: ACTIVE → ACKNOWLEDGED with who and a note, idempotent; the condition still clears it; a cleared one is AlertNotOpen', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['a1']);
    const rule = await ruleId(app, tenant.token, { name: 'a', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1, severity: 'CRITICAL' });
    const ws = wsClient(app.port, tenant.token);
    const listening = nextListener(app, 'alertChanged', tenant.tenantId);
    const events = subscribe<AlertChangedEvent>(ws, ALERT_CHANGED, { severities: ['CRITICAL'] });
    await listening;
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('a1', readings('x', [2])[0]);
    const [alert] = await alertsOf(app, tenant.token, { ruleId: rule });

    const acked = await acknowledge(app, tenant.token, alert!.alertId, 'on it');
    expect(acked).toMatchObject({ __typename: 'AcknowledgeAlertPayload', alert: { state: 'ACKNOWLEDGED', acknowledgedBy: `user@${tenant.tenantId}`, acknowledgeNote: 'on it' } });
    const again = await acknowledge(app, tenant.token, alert!.alertId, 'second');
    expect(again.alert).toMatchObject({ state: 'ACKNOWLEDGED', acknowledgeNote: 'on it', acknowledgedAt: acked.alert!.acknowledgedAt });
    // Still open: a breach does not raise a second alert.
    await device.send('a1', readings('x', [3], 1)[0]);
    expect(await alertsOf(app, tenant.token, { ruleId: rule })).toHaveLength(1);
    await device.send('a1', readings('x', [0], 2)[0]);
    expect((await alertsOf(app, tenant.token, { ruleId: rule }))[0]).toMatchObject({ state: 'CLEARED', acknowledgeNote: 'on it', peakValue: 3 });
    expect(await acknowledge(app, tenant.token, alert!.alertId)).toEqual({ __typename: 'AlertNotOpen', alertId: alert!.alertId, state: 'CLEARED', code: 'ALERT_NOT_OPEN' });

    expect((await events.next()).alertChanged.change).toBe('RAISED');
    expect((await events.next()).alertChanged.change).toBe('ACKNOWLEDGED');
    expect((await events.next()).alertChanged.change).toBe('CLEARED');
    await events.close();
    await ws.dispose();
  });

  test('clearAlert by hand: reason MANUAL; a later breach raises a new alert', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['m1']);
    const rule = await ruleId(app, tenant.token, { name: 'm', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1 });
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('m1', readings('x', [5])[0]);
    const [alert] = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(await clearByHand(app, tenant.token, alert!.alertId, 'false alarm')).toMatchObject({
      alert: { state: 'CLEARED', clearReason: 'MANUAL', clearedBy: `user@${tenant.tenantId}`, clearNote: 'false alarm', clearValue: null },
    });
    expect((await clearByHand(app, tenant.token, alert!.alertId)).alert).toMatchObject({ clearNote: 'false alarm' });
    await device.send('m1', readings('x', [6], 1)[0]);
    const alerts = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(alerts.map((a) => [a.state, a.value])).toEqual([
      ['ACTIVE', 6],
      ['CLEARED', 5],
    ]);
  });

  test('a GROUP rule applies to the group’s members only; a TENANT rule to every device', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['in1', 'in2', 'out']);
    const groupId = await seedStaticGroup(app, tenant.tenantId, ['in1', 'in2']);
    const groupRule = await ruleId(app, tenant.token, { name: 'g', scope: 'GROUP', groupId, metric: 'x', condition: 'ABOVE', threshold: 1 });
    const tenantRule = await ruleId(app, tenant.token, { name: 't', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1 });
    const device = await telemetryPublisher(app, tenant.tenantId);
    for (const deviceId of ['in1', 'in2', 'out']) await device.send(deviceId, { metrics: { x: 5 } });
    expect((await alertsOf(app, tenant.token, { ruleId: groupRule })).map((a) => a.deviceId).sort()).toEqual(['in1', 'in2']);
    expect((await alertsOf(app, tenant.token, { ruleId: tenantRule })).map((a) => a.deviceId).sort()).toEqual(['in1', 'in2', 'out']);
    expect((await alertsOf(app, tenant.token, { groupId })).map((a) => a.deviceId).sort()).toEqual(['in1', 'in1', 'in2', 'in2']);
  });

  test('alertChanged(groupId) delivers the members’ alerts only; another tenant’s subscriber never sees them', async ({ tenant, otherTenant }) => {
    await registerDevices(app, tenant.token, ['s-in', 's-out']);
    await registerDevices(app, otherTenant.token, ['theirs']);
    const groupId = await seedStaticGroup(app, tenant.tenantId, ['s-in']);
    await ruleId(app, tenant.token, { name: 'sub', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1 });
    await ruleId(app, otherTenant.token, { name: 'sub', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1 });
    const ours = wsClient(app.port, tenant.token);
    const theirs = wsClient(app.port, otherTenant.token);
    const listening = Promise.all([nextListener(app, 'alertChanged', tenant.tenantId), nextListener(app, 'alertChanged', otherTenant.tenantId)]);
    const groupEvents = subscribe<AlertChangedEvent>(ours, ALERT_CHANGED, { groupId });
    const otherEvents = subscribe<AlertChangedEvent>(theirs, ALERT_CHANGED, {});
    await listening;
    const device = await telemetryPublisher(app, tenant.tenantId);
    await device.send('s-out', { metrics: { x: 5 } });
    await device.send('s-in', { metrics: { x: 5 } });
    await (await telemetryPublisher(app, otherTenant.tenantId)).send('theirs', { metrics: { x: 5 } });
    expect((await groupEvents.next()).alertChanged).toMatchObject({ change: 'RAISED', deviceId: 's-in' });
    expect((await otherEvents.next()).alertChanged).toMatchObject({ change: 'RAISED', deviceId: 'theirs' });
    await Promise.all([groupEvents.close(), otherEvents.close()]);
    await Promise.all([ours.dispose(), theirs.dispose()]);
  });

  test('rules and alerts are tenant-isolated', async ({ tenant, otherTenant }) => {
    await registerDevices(app, tenant.token, ['iso']);
    await registerDevices(app, otherTenant.token, ['iso']);
    const rule = await ruleId(app, tenant.token, { name: 'iso', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 1 });
    // The other tenant's device breaching the same metric raises nothing under this tenant's rule.
    await (await telemetryPublisher(app, otherTenant.tenantId)).send('iso', { metrics: { x: 9 } });
    expect(await alertsOf(app, tenant.token)).toEqual([]);
    await (await telemetryPublisher(app, tenant.tenantId)).send('iso', { metrics: { x: 9 } });
    const [alert] = await alertsOf(app, tenant.token);
    expect(alert).toMatchObject({ ruleId: rule });

    expect(await alertsOf(app, otherTenant.token)).toEqual([]);
    const node = await gqlData<{ alert: unknown; rule: unknown }>(app, otherTenant.token, `query($a: ID!, $r: ID!) { alert: node(id: $a) { id } rule: node(id: $r) { id } }`, {
      a: alert!.id,
      r: (await gqlData<{ alertRule: { id: string } }>(app, tenant.token, `query($id: String!) { alertRule(ruleId: $id) { id } }`, { id: rule })).alertRule.id,
    });
    expect(node).toEqual({ alert: null, rule: null });
    expect(await acknowledge(app, otherTenant.token, alert!.alertId)).toMatchObject({ __typename: 'NotFound', resource: 'Alert' });
    expect((await gqlData<{ alertRules: { totalCount: number } }>(app, otherTenant.token, `{ alertRules { totalCount } }`)).alertRules.totalCount).toBe(0);
  });
});
