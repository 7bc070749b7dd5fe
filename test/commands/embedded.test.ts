import { startEmbeddedTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { keepPresence, registerDevice } from '../connectivity/support.js';
import { closeDevices, inFuture, readCommand, sendOk, simulatedDevice, statusesOf } from './support.js';

/**
 * The ledger on the embedded default: PGlite (PostgreSQL 18 in WASM) and the embedded broker
 * (Aedes, MQTT 3.1.1, per-device credentials and ACL), as `npm start` runs it.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startEmbeddedTestApp('pulse-commands-');
}, 120_000);
afterAll(async () => {
  await closeDevices();
  await app?.stop();
});

describe('commands on PGlite and the embedded broker', () => {
  test('held while offline, sent on ONLINE, delivered on the ack; the worker closes the rest', async ({ tenant }) => {
    expect(app.pulse.database.kind).toBe('pglite');
    await keepPresence(app, tenant.token);
    const { credentials } = await registerDevice(app, tenant.token, 'emb-1');
    const device = await simulatedDevice(app, tenant.tenantId, 'emb-1', { credentials });
    const held = await sendOk(app, tenant.token, { deviceId: 'emb-1', commandType: 'held' });
    const lapsing = await sendOk(app, tenant.token, { deviceId: 'emb-1', commandType: 'lapsing', ttlSeconds: 1 });
    await app.pulse.app.workers.runAllOnce(inFuture(2));
    expect(await statusesOf(app, tenant.token, [held, lapsing])).toEqual(['QUEUED', 'EXPIRED']);

    await device.online();
    expect(await device.nextCommand()).toMatchObject({ commandId: held.commandId, commandType: 'held' });
    await app.pulse.app.reactions.idle();
    expect(await device.ack(held.commandId, { status: 'delivered', result: { ok: true } })).toEqual({ status: 'applied' });
    expect(await readCommand(app, tenant.token, held.id)).toMatchObject({ status: 'DELIVERED', result: { ok: true } });

    const unanswered = await sendOk(app, tenant.token, { deviceId: 'emb-1', commandType: 'unanswered', ttlSeconds: 30 });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    await app.pulse.app.workers.runAllOnce(inFuture(31));
    expect(await statusesOf(app, tenant.token, [unanswered])).toEqual(['MISSED']);
    expect(device.received.map((message) => message.commandType)).toEqual(['held', 'unanswered']);
  }, 60_000);
});
