import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { applyStatusChanges, type StatusChange } from '../../src/modules/connectivity/status.js';
import { keepPresence, presenceOf, registerDevice } from './support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const SERVICE = { tenantId: null, role: 'iot_service', actorId: 'test' } as const;

describe('status changes of many devices in one call', () => {
  test('same effect as one after the other: per-device order, sessions, fencing, unknown devices', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    for (const deviceId of ['sa', 'sb']) await registerDevice(app, tenant.token, deviceId);
    const base = Date.now();
    const change = (deviceId: string, state: 'online' | 'offline', sessionId: string | undefined, seconds: number): StatusChange => ({
      key: { tenantId: tenant.tenantId, deviceId },
      state,
      sessionId,
      at: new Date(base + seconds * 1000),
      details: { n: seconds },
    });

    const outcomes = await app.pulse.app.runner.run(SERVICE, (session) =>
      applyStatusChanges(session, [
        change('sa', 'online', 'a1', 1),
        change('sb', 'online', 'b1', 2),
        change('sa', 'offline', 'a0', 3), // names a session that is not current: fenced
        change('sa', 'offline', 'a1', 4),
        change('ghost', 'online', 'g1', 5),
        change('sb', 'online', 'b1', 6), // the current session again: nothing to log
        change('sa', 'online', 'a2', 7),
        change('sa', 'online', 'a1', 8), // an older session (it has events) arriving late: fenced
      ]),
    );
    expect(outcomes.map((outcome) => [outcome.found, outcome.fenced, outcome.transition?.reason ?? null])).toEqual([
      [true, false, 'MQTT_CONNECT'],
      [true, false, 'MQTT_CONNECT'],
      [true, true, null],
      [true, false, 'LWT'],
      [false, false, null],
      [true, false, null],
      [true, false, 'MQTT_CONNECT'],
      [true, true, null],
    ]);

    const sa = await presenceOf(app, tenant.token, 'sa');
    expect(sa.status).toBe('ONLINE');
    expect(sa.events.map((event) => `${event.reason}:${event.sessionId}:${event.newStatus}`)).toEqual([
      'MQTT_CONNECT:a2:ONLINE',
      'LWT:a1:OFFLINE',
      'MQTT_CONNECT:a1:ONLINE',
    ]);
    const sb = await presenceOf(app, tenant.token, 'sb');
    expect(sb).toMatchObject({ status: 'ONLINE', events: [expect.objectContaining({ reason: 'MQTT_CONNECT', sessionId: 'b1' })] });
    expect(sb.events).toHaveLength(1);
  });
});
