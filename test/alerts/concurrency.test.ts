import { serviceScope } from '../../src/kernel/scope.js';
import { evaluateThresholdRules } from '../../src/modules/alerts/evaluate.js';
import { ingestTelemetry } from '../../src/modules/telemetry/ingest.js';
import type { InboundMessage } from '../../src/mqtt/ingest.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { buildTopic } from '../harness/topics.js';
import { closeClients, deviceClient, nextSettled, registerDevices } from '../telemetry/support.js';
import { alertsOf, ruleId } from './support.js';

/*
 * ThingsBoard's users see duplicate alarms when messages arrive milliseconds apart. Here the
 * per-(rule, device) state row serialises evaluation and the partial unique index has the last
 * word: however the samples race, exactly one alert opens.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const message = (tenantId: string, deviceId: string, ts: number, value: number): InboundMessage<'telemetry'> => ({
  kind: 'telemetry',
  tenantId,
  deviceId,
  params: {},
  payload: [{ ts: new Date(ts), metrics: { x: value } }],
  receivedAt: new Date(),
  redelivered: false,
});

describe('concurrent evaluation', () => {
  test('batches applied concurrently in separate transactions (as two lanes or two instances would) open exactly one alert per device', async ({ tenant }) => {
    const devices = ['c1', 'c2', 'c3'];
    await registerDevices(app, tenant.token, devices);
    const rule = await ruleId(app, tenant.token, { name: 'race', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 10 });
    const t = Date.now() - 60_000;
    // 12 transactions at once, each with one breaching sample per device, a millisecond apart.
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        app.pulse.app.runner.run(serviceScope(`lane-${i}`), (session) =>
          ingestTelemetry(session, app.pulse.app.services, devices.map((deviceId) => message(tenant.tenantId, deviceId, t + i, 20 + i))),
        ),
      ),
    );
    const alerts = await alertsOf(app, tenant.token, { ruleId: rule });
    expect(alerts.map((alert) => [alert.deviceId, alert.state]).sort()).toEqual([
      ['c1', 'ACTIVE'],
      ['c2', 'ACTIVE'],
      ['c3', 'ACTIVE'],
    ]);
  });

  test('evaluation alone, without the ingest path around it, still opens one alert per rule', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['e1']);
    const once = await ruleId(app, tenant.token, { name: 'once', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 10 });
    const twice = await ruleId(app, tenant.token, { name: 'twice', scope: 'TENANT', metric: 'y', condition: 'ABOVE', threshold: 10, forSamples: 2 });
    const t = Date.now() - 60_000;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        app.pulse.app.runner.run(serviceScope(`eval-${i}`), (session) =>
          evaluateThresholdRules(session, app.pulse.app.services, [
            { tenantId: tenant.tenantId, deviceId: 'e1', metric: 'x', value: 20 + i, time: new Date(t + i) },
            { tenantId: tenant.tenantId, deviceId: 'e1', metric: 'y', value: 20, time: new Date(t + 2 * i) },
            { tenantId: tenant.tenantId, deviceId: 'e1', metric: 'y', value: 21, time: new Date(t + 2 * i + 1) },
          ]),
        ),
      ),
    );
    expect(await alertsOf(app, tenant.token, { ruleId: once })).toHaveLength(1);
    // Whichever transaction got the state row first raised; each later one saw its alert open.
    expect(await alertsOf(app, tenant.token, { ruleId: twice })).toHaveLength(1);
  });

  test('the same alert raised concurrently by two transactions inserts once: the partial unique index decides', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['u1']);
    const rule = await ruleId(app, tenant.token, { name: 'uniq', scope: 'TENANT', metric: 'x', condition: 'ABOVE', threshold: 10 });
    const insert = (alertId: string) =>
      app.pulse.app.runner.run(serviceScope('test'), (session) =>
        session.db.$executeRaw`
          INSERT INTO alerts (tenant_id, alert_id, rule_id, device_id, severity) VALUES (${tenant.tenantId}, ${alertId}, ${rule}, 'u1', 'warning')
          ON CONFLICT (tenant_id, rule_id, device_id) WHERE state IN ('active', 'acknowledged') DO NOTHING`,
      );
    const inserted = await Promise.all(['one', 'two', 'three'].map((id) => insert(`${tenant.tenantId}-${id}`)));
    expect(inserted.sort()).toEqual([0, 0, 1]);
    await expect(
      app.pulse.app.runner.run(serviceScope('test'), (session) =>
        session.db.$executeRaw`INSERT INTO alerts (tenant_id, rule_id, device_id, severity) VALUES (${tenant.tenantId}, ${rule}, 'u1', 'warning')`,
      ),
    ).rejects.toThrow();
  });

  test('two instances on one broker both receive a burst sent milliseconds apart: samples stored once, one alert', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['burst']);
    const rule = await ruleId(app, tenant.token, { name: 'burst', scope: 'DEVICE', deviceId: 'burst', metric: 'x', condition: 'ABOVE', threshold: 10 });
    // Without a shared subscription, both bridges get every message and apply it concurrently.
    const second = await startTestApp({ MQTT_URL: app.mqttUrl });
    try {
      const device = await deviceClient({ url: app.mqttUrl });
      const topic = buildTopic.telemetry(tenant.tenantId, 'burst');
      const count = 30;
      const settled = Promise.all([nextSettled(app, topic, count), nextSettled(second, topic, count)]);
      const t = Date.now() - 1_000;
      await Promise.all(Array.from({ length: count }, (_, i) => device.publishAsync(topic, JSON.stringify({ ts: t + i, metrics: { x: 11 + i } }), { qos: 1 })));
      await settled;
      const alerts = await alertsOf(app, tenant.token, { ruleId: rule });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ state: 'ACTIVE', peakValue: 11 + count - 1 });
      const stored = await app.pulse.app.runner.run(serviceScope('test'), (session) =>
        session.db.telemetry.count({ where: { tenantId: tenant.tenantId, deviceId: 'burst' } }),
      );
      expect(stored).toBe(count);
    } finally {
      await second.stop();
    }
  });
});
