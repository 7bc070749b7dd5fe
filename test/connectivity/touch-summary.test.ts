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

const SERVICE = { tenantId: null, role: 'iot_service', actorId: 'test' } as const;

async function stateOf(tenantId: string, deviceId: string): Promise<{ lastSeenAt: Date | null; lastHeartbeatAt: Date | null }> {
  const { rows } = await withAdmin(
    (client) =>
      client.query<{ last_seen_at: Date | null; last_heartbeat_at: Date | null }>(
        'SELECT last_seen_at, last_heartbeat_at FROM device_state WHERE tenant_id = $1 AND device_id = $2',
        [tenantId, deviceId],
      ),
    inject('database').name,
  );
  return { lastSeenAt: rows[0]!.last_seen_at, lastHeartbeatAt: rows[0]!.last_heartbeat_at };
}

describe('a batch of touches summarised per device', () => {
  test('heartbeats and other messages, out of time order: latest sighting, latest heartbeat, transition at the first', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    for (const deviceId of ['mix', 'quiet']) await registerDevice(app, tenant.token, deviceId);
    const base = Date.now();
    const at = (seconds: number) => new Date(base + seconds * 1000);
    const key = (deviceId: string) => ({ tenantId: tenant.tenantId, deviceId });

    const outcomes = await app.pulse.app.runner.run(SERVICE, (session) =>
      touchDevices(
        session,
        [
          { key: key('mix'), at: at(5), heartbeat: true, details: { first: true } },
          { key: key('quiet'), at: at(2) },
          { key: key('mix'), at: at(9) },
          { key: key('mix'), at: at(1), heartbeat: true, details: { first: false } },
          { key: key('mix'), at: at(7), heartbeat: true },
        ],
        'HEARTBEAT',
      ),
    );
    expect(outcomes.map((outcome) => [outcome.found, outcome.transition !== null])).toEqual([
      [true, true],
      [true, true],
      [true, true],
      [true, true],
      [true, true],
    ]);

    // Seen last at 9 s (a message that is no heartbeat), heartbeat last at 7 s.
    expect(await stateOf(tenant.tenantId, 'mix')).toEqual({ lastSeenAt: at(9), lastHeartbeatAt: at(7) });
    // Only other messages: no heartbeat recorded.
    expect(await stateOf(tenant.tenantId, 'quiet')).toEqual({ lastSeenAt: at(2), lastHeartbeatAt: null });
    // Back ONLINE at the earliest sighting; the event carries the details of the first touch listed.
    const mix = await presenceOf(app, tenant.token, 'mix');
    expect(mix.events).toEqual([expect.objectContaining({ reason: 'HEARTBEAT', newStatus: 'ONLINE', occurredAt: at(1).toISOString() })]);
    const { rows } = await withAdmin(
      (client) => client.query<{ details: unknown }>('SELECT details FROM device_connection_events WHERE tenant_id = $1 AND device_id = $2', [tenant.tenantId, 'mix']),
      inject('database').name,
    );
    expect(rows.map((row) => row.details)).toEqual([{ first: true }]);
  });
});
