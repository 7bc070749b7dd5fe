import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import type { TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { subscribe, wsClient } from '../harness/ws.js';
import { closeDevices, onlineDevice, privateDatabase, sendOk, startOn, type PrivateDatabase } from './support.js';

/** commandStatusChanged: every transition after commit, tenant-scoped, the command re-read by the subscriber. */
let db: PrivateDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await privateDatabase();
  app = await startOn(db);
});
afterAll(async () => {
  await closeDevices();
  await app?.stop();
  await db?.dispose();
});

type Event = {
  commandStatusChanged: {
    commandId: string;
    deviceId: string;
    previousStatus: string | null;
    status: string;
    occurredAt: string;
    command: { status: string; result: Record<string, unknown> | null } | null;
    device: { deviceId: string } | null;
  };
};

const SUBSCRIPTION = /* GraphQL */ `
  subscription($deviceId: String) {
    commandStatusChanged(deviceId: $deviceId) {
      commandId deviceId previousStatus status occurredAt
      command { status result }
      device { deviceId }
    }
  }`;

describe('commandStatusChanged', () => {
  test('streams QUEUED → SENT → DELIVERED of one device, in order; other tenants see none of it', async ({ tenant, otherTenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'watched');
    const other = await onlineDevice(app, otherTenant.token, otherTenant.tenantId, 'watched');
    const mine = wsClient(app.port, tenant.token);
    const theirs = wsClient(app.port, otherTenant.token);
    try {
      const listening = Promise.all([nextListener(app, 'commandStatusChanged', tenant.tenantId), nextListener(app, 'commandStatusChanged', otherTenant.tenantId)]);
      const events = subscribe<Event>(mine, SUBSCRIPTION, { deviceId: 'watched' });
      const foreign = subscribe<Event>(theirs, SUBSCRIPTION, { deviceId: 'watched' });
      await listening;

      const created = await sendOk(app, tenant.token, { deviceId: 'watched', commandType: 'reboot' });
      const first = await events.next();
      expect(first.commandStatusChanged).toMatchObject({ commandId: created.commandId, deviceId: 'watched', previousStatus: null, status: 'QUEUED', device: { deviceId: 'watched' } });
      expect((await events.next()).commandStatusChanged).toMatchObject({ previousStatus: 'QUEUED', status: 'SENT' });
      await device.nextCommand();
      await device.ack(created.commandId, { status: 'delivered', result: { ok: 1 } });
      expect((await events.next()).commandStatusChanged).toMatchObject({
        previousStatus: 'SENT',
        status: 'DELIVERED',
        command: { status: 'DELIVERED', result: { ok: 1 } },
      });

      // The other tenant's first event is its own command, not any of the three above.
      const theirsCreated = await sendOk(app, otherTenant.token, { deviceId: 'watched', commandType: 'theirs' });
      expect((await foreign.next()).commandStatusChanged).toMatchObject({ commandId: theirsCreated.commandId, status: 'QUEUED' });
      await other.nextCommand();
      await events.close();
      await foreign.close();
    } finally {
      await mine.dispose();
      await theirs.dispose();
    }
  });

  test('the command is re-read when the event is delivered, not taken from the payload: a command that does not exist reads as null', async ({ tenant }) => {
    // The event payload carries keys only; command and device come from the subscriber's own scope (RLS).
    const client = wsClient(app.port, tenant.token);
    try {
      const listening = nextListener(app, 'commandStatusChanged', tenant.tenantId);
      const events = subscribe<Event>(client, SUBSCRIPTION, {});
      await listening;
      // Harness-only: an event for a command that does not exist in this tenant, as a forged
      // payload would be; the subscriber's re-read shows nothing.
      app.pulse.app.events.publish('commandStatusChanged', {
        tenantId: tenant.tenantId,
        deviceId: 'ghost',
        commandId: 'not-there',
        batchId: null,
        previousStatus: null,
        status: 'QUEUED',
        occurredAt: new Date().toISOString(),
      });
      expect((await events.next()).commandStatusChanged).toMatchObject({ commandId: 'not-there', command: null, device: null });
      await events.close();
    } finally {
      await client.dispose();
    }
  });
});
