import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { withAdmin } from '../harness/postgres.js';
import { touchDevices } from '../../src/modules/connectivity/touch.js';
import { keepPresence, presenceOf, registerDevice } from './support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

async function setStatus(tenantId: string, deviceId: string, status: 'STALE' | 'OFFLINE'): Promise<void> {
  await withAdmin(
    (client) => client.query('UPDATE device_state SET status = $3, status_changed_at = now() - interval \'1 hour\' WHERE tenant_id = $1 AND device_id = $2', [tenantId, deviceId, status]),
    inject('database').name,
  );
}

describe('set-based presence writes (a batch of heartbeats in one statement)', () => {
  test('each device is updated once, comes back ONLINE at its first message, and unknown devices are reported', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    for (const deviceId of ['a', 'b', 'c']) await registerDevice(app, tenant.token, deviceId);
    await setStatus(tenant.tenantId, 'a', 'STALE');
    await setStatus(tenant.tenantId, 'b', 'OFFLINE');
    const base = Date.now();
    const at = (seconds: number) => new Date(base + seconds * 1000);
    const key = (deviceId: string) => ({ tenantId: tenant.tenantId, deviceId });

    const outcomes = await app.pulse.app.runner.run({ tenantId: null, role: 'iot_service', actorId: 'test' }, (session) =>
      touchDevices(
        session,
        [
          { key: key('a'), at: at(1), heartbeat: true, details: { n: 1 } },
          { key: key('b'), at: at(2), heartbeat: true },
          { key: key('ghost'), at: at(3), heartbeat: true },
          { key: key('a'), at: at(4), heartbeat: true, details: { n: 2 } },
        ],
        'HEARTBEAT',
      ),
    );
    expect(outcomes.map((outcome) => outcome.found)).toEqual([true, true, false, true]);

    const a = await presenceOf(app, tenant.token, 'a');
    expect(a.status).toBe('ONLINE');
    expect(new Date(a.lastSeenAt!).getTime()).toBe(at(4).getTime());
    expect(a.events).toEqual([
      expect.objectContaining({ eventType: 'CONNECTED', reason: 'HEARTBEAT', previousStatus: 'STALE', newStatus: 'ONLINE', occurredAt: at(1).toISOString() }),
    ]);
    const b = await presenceOf(app, tenant.token, 'b');
    expect(b).toMatchObject({ status: 'ONLINE', events: [expect.objectContaining({ previousStatus: 'OFFLINE', reason: 'HEARTBEAT' })] });
    const c = await presenceOf(app, tenant.token, 'c');
    expect(c).toMatchObject({ status: 'OFFLINE', lastSeenAt: null, events: [] });

    // Again, older: last_seen_at never moves back and nothing new is logged.
    await app.pulse.app.runner.run({ tenantId: null, role: 'iot_service', actorId: 'test' }, (session) =>
      touchDevices(session, [{ key: key('a'), at: at(-60), heartbeat: true }], 'HEARTBEAT'),
    );
    const again = await presenceOf(app, tenant.token, 'a');
    expect(new Date(again.lastSeenAt!).getTime()).toBe(at(4).getTime());
    expect(again.events).toHaveLength(1);
  });
});
