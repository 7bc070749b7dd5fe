import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import type { TestApp } from '../harness/app.js';
import { withAdmin } from '../harness/postgres.js';
import {
  closeDevices,
  counterValue,
  inFuture,
  onlineDevice,
  privateDatabase,
  readCommand,
  registerDevices,
  sendOk,
  startOn,
  statusesOf,
  type PrivateDatabase,
} from './support.js';

/** The expiry worker, driven with an injected clock: EXPIRED (never sent) and MISSED (sent, never acked). */
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

describe('expiry worker', () => {
  test('QUEUED past its TTL → EXPIRED; SENT past its TTL → MISSED; a late ack changes nothing and is counted', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['offline']);
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'mute');
    const queued = await sendOk(app, tenant.token, { deviceId: 'offline', ttlSeconds: 30 });
    const sent = await sendOk(app, tenant.token, { deviceId: 'mute', ttlSeconds: 30 });
    const lasting = await sendOk(app, tenant.token, { deviceId: 'mute', ttlSeconds: 3_600 });
    await device.nextCommand();
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, [queued, sent, lasting])).toEqual(['QUEUED', 'SENT', 'SENT']);

    // Not yet: the TTL has not passed at this clock.
    await app.pulse.app.workers.runAllOnce(new Date());
    expect(await statusesOf(app, tenant.token, [queued, sent, lasting])).toEqual(['QUEUED', 'SENT', 'SENT']);

    const expired = await counterValue(app, 'transitions', 'status', 'EXPIRED');
    const missed = await counterValue(app, 'transitions', 'status', 'MISSED');
    await app.pulse.app.workers.runAllOnce(inFuture(31));
    expect(await statusesOf(app, tenant.token, [queued, sent, lasting])).toEqual(['EXPIRED', 'MISSED', 'SENT']);
    // A second run finds nothing more to do.
    await app.pulse.app.workers.runAllOnce(inFuture(31));
    expect((await counterValue(app, 'transitions', 'status', 'EXPIRED')) - expired).toBe(1);
    expect((await counterValue(app, 'transitions', 'status', 'MISSED')) - missed).toBe(1);

    const late = await counterValue(app, 'acks', 'outcome', 'late');
    expect(await device.ack(sent.commandId)).toEqual({ status: 'duplicate' });
    expect((await counterValue(app, 'acks', 'outcome', 'late')) - late).toBe(1);
    expect(await readCommand(app, tenant.token, sent.id)).toMatchObject({ status: 'MISSED', ackedAt: null });
    expect(await device.ack(lasting.commandId)).toEqual({ status: 'applied' });
  });

  test('an ack after the TTL but before the worker ran is late, and the worker then marks MISSED', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'slow');
    const sent = await sendOk(app, tenant.token, { deviceId: 'slow', ttlSeconds: 60 });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    // Harness-only: the TTL ran out a moment ago (no sleeping for it).
    await db.sql(`UPDATE device_commands SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND command_id = $2`, [tenant.tenantId, sent.commandId]);
    expect(await device.ack(sent.commandId)).toEqual({ status: 'duplicate' });
    expect(await readCommand(app, tenant.token, sent.id)).toMatchObject({ status: 'SENT' });
    await app.pulse.app.workers.runAllOnce();
    expect(await readCommand(app, tenant.token, sent.id)).toMatchObject({ status: 'MISSED' });
  });

  test('a command a publisher holds is not expired under it; once the lease has run out it is', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['held']);
    const command = await sendOk(app, tenant.token, { deviceId: 'held', ttlSeconds: 1 });
    // Harness-only: a hand-over in progress (its lease runs 60 s), as a publisher holds it.
    await db.sql(`UPDATE device_commands SET claimed_until = now() + interval '60 seconds', published_at = now() WHERE tenant_id = $1 AND command_id = $2`, [
      tenant.tenantId,
      command.commandId,
    ]);
    await app.pulse.app.workers.runAllOnce(inFuture(2));
    expect(await statusesOf(app, tenant.token, [command])).toEqual(['QUEUED']);
    await app.pulse.app.workers.runAllOnce(inFuture(61));
    expect(await statusesOf(app, tenant.token, [command])).toEqual(['EXPIRED']);
  });

  test('the scans are index-backed: expiry uses the partial index on expires_at, a device queue its own', async () => {
    // With sequential scans priced out, the planner shows which index can serve each predicate.
    const plan = (sql: string) =>
      withAdmin(async (client) => {
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        const rows = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows;
        await client.query('ROLLBACK');
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      }, db.database.name);
    const expiry = await plan(`SELECT tenant_id, command_id FROM device_commands WHERE status IN ('queued', 'sent') AND expires_at <= now() ORDER BY expires_at LIMIT 1000`);
    expect(expiry).toContain('idx_device_commands_expires');
    const queue = await plan(`SELECT command_id FROM device_commands WHERE tenant_id = 't' AND device_id = 'd' AND status = 'queued' ORDER BY seq`);
    expect(queue).toContain('idx_device_commands_device_queue');
  });
});
