import { evaluateTimedRules } from '../../src/modules/alerts/timed.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { nextListener } from '../harness/listeners.js';
import { uniqueName } from '../harness/postgres.js';
import { buildTopic } from '../harness/topics.js';
import { subscribe, wsClient } from '../harness/ws.js';
import { status } from '../connectivity/support.js';
import { writeDesired } from '../twin/helpers.js';
import { closeClients, deviceClient, keepPresence, publishSettled, registerDevices, seedStaticGroup } from '../telemetry/support.js';
import { ALERT_CHANGED, alertsOf, ruleId, type AlertChangedEvent } from './support.js';

/*
 * The evaluator works across tenants and other files run in parallel, so it is driven for the
 * test's own tenant with a clock ahead; the worker itself (runAllOnce) only with a clock two
 * seconds ahead, which moves no other test's devices.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const SECOND = 1_000;
const evaluateAt = (tenantId: string, seconds: number) =>
  evaluateTimedRules(app.pulse.app.runner, app.pulse.app.services, new Date(Date.now() + seconds * SECOND), { tenantId });

describe('OFFLINE for longer than a duration', () => {
  test('raises once the device has been offline for forSeconds, once; clears when it comes back', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    const registeredAt = Date.now();
    await registerDevices(app, tenant.token, ['off1']); // never connected: OFFLINE since registration
    const rule = await ruleId(app, tenant.token, { name: 'gone', kind: 'OFFLINE', scope: 'TENANT', forSeconds: 600, severity: 'CRITICAL' });
    const ws = wsClient(app.port, tenant.token);
    const listening = nextListener(app, 'alertChanged', tenant.tenantId);
    const events = subscribe<AlertChangedEvent>(ws, ALERT_CHANGED, { deviceId: 'off1' });
    await listening;

    expect(await evaluateAt(tenant.tenantId, 590)).toEqual([]);
    expect((await evaluateAt(tenant.tenantId, 610)).map((t) => t.change)).toEqual(['RAISED']);
    expect(await evaluateAt(tenant.tenantId, 620)).toEqual([]);
    const [alert] = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(alert).toMatchObject({ state: 'ACTIVE', severity: 'CRITICAL', deviceId: 'off1', metric: null, value: null });
    const offlineSince = new Date(alert!.details['offlineSince'] as string).getTime();
    expect(offlineSince).toBeGreaterThanOrEqual(registeredAt - 1_000);
    expect(offlineSince).toBeLessThanOrEqual(Date.now());

    const device = await deviceClient({ url: app.mqttUrl });
    await publishSettled(app, device, buildTopic.status(tenant.tenantId, 'off1'), status('online', uniqueName('s')));
    await app.pulse.app.reactions.idle();
    const [cleared] = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(cleared).toMatchObject({ state: 'CLEARED', clearReason: 'CONDITION' });
    expect(new Date(cleared!.clearedAt!).getTime()).toBeGreaterThanOrEqual(new Date(cleared!.raisedAt).getTime());
    // Online now: a later evaluation raises nothing.
    expect(await evaluateAt(tenant.tenantId, 1_300)).toEqual([]);

    expect((await events.next()).alertChanged).toMatchObject({ change: 'RAISED', severity: 'CRITICAL', device: { deviceId: 'off1' } });
    expect((await events.next()).alertChanged).toMatchObject({ change: 'CLEARED', alertId: alert!.alertId });
    await events.close();
    await ws.dispose();
  });

  test('a GROUP rule watches its members only; the periodic worker raises too', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevices(app, tenant.token, ['g-in', 'g-out']);
    const groupId = await seedStaticGroup(app, tenant.tenantId, ['g-in']);
    const rule = await ruleId(app, tenant.token, { name: 'members', kind: 'OFFLINE', scope: 'GROUP', groupId, forSeconds: 1 });
    await app.pulse.app.workers.runAllOnce(new Date(Date.now() + 2 * SECOND));
    expect((await alertsOf(app, tenant.token, { ruleId: rule })).map((a) => [a.deviceId, a.state])).toEqual([['g-in', 'ACTIVE']]);
  });
});

describe('desired twin change not reported back in time', () => {
  test('raises after forSeconds without convergence; a report that does not converge keeps it; the converging report clears it', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevices(app, tenant.token, ['tw1', 'tw2']);
    const rule = await ruleId(app, tenant.token, { name: 'stuck', kind: 'TWIN_NOT_CONVERGED', scope: 'TENANT', forSeconds: 300, severity: 'MINOR' });
    await writeDesired(app, tenant.token, { deviceId: 'tw1', desired: { mode: 'eco', fan: { speed: 2 } } });

    expect(await evaluateAt(tenant.tenantId, 290)).toEqual([]);
    expect((await evaluateAt(tenant.tenantId, 310)).map((t) => [t.change, t.deviceId])).toEqual([['RAISED', 'tw1']]);
    const [alert] = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(alert).toMatchObject({ state: 'ACTIVE', severity: 'MINOR', details: { desiredVersion: 1 } });

    const device = await deviceClient({ url: app.mqttUrl });
    const report = (state: Record<string, unknown>) => publishSettled(app, device, buildTopic.twinReported(tenant.tenantId, 'tw1'), JSON.stringify({ state }));
    expect(await report({ mode: 'eco', fan: { speed: 1 } })).toEqual({ status: 'applied' });
    await app.pulse.app.reactions.idle();
    expect((await alertsOf(app, tenant.token, { ruleId: rule }))[0]?.state).toBe('ACTIVE');
    expect(await report({ fan: { speed: 2 }, extra: true })).toEqual({ status: 'applied' });
    await app.pulse.app.reactions.idle();
    expect((await alertsOf(app, tenant.token, { ruleId: rule }))[0]).toMatchObject({ state: 'CLEARED', clearReason: 'CONDITION' });
    expect(await evaluateAt(tenant.tenantId, 900)).toEqual([]);
  });
});
