import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import type { TestApp } from '../harness/app.js';
import { buildTopic } from '../harness/topics.js';
import { nextSettled, status } from '../connectivity/support.js';
import { closeDevices, inFuture, onlineDevice, privateDatabase, registerDevices, sendOk, simulatedDevice, startOn, statusesOf, type PrivateDatabase } from './support.js';

/** Commands wait for their device: sent when it comes ONLINE, in creation order, within TTL, at most N in flight. */
const CAP = 3;
let db: PrivateDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await privateDatabase();
  app = await startOn(db, { COMMANDS_MAX_IN_FLIGHT: String(CAP) });
});
afterAll(async () => {
  await closeDevices();
  await app?.stop();
  await db?.dispose();
});

describe('offline hold', () => {
  test('commands for an offline device stay QUEUED and go out in creation order when it comes ONLINE', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['away']);
    const device = await simulatedDevice(app, tenant.tenantId, 'away');
    const commands = [];
    for (const commandType of ['first', 'second', 'third']) commands.push(await sendOk(app, tenant.token, { deviceId: 'away', commandType }));
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, commands)).toEqual(['QUEUED', 'QUEUED', 'QUEUED']);
    expect(device.received).toEqual([]);

    await device.online();
    const arrived = [await device.nextCommand(), await device.nextCommand(), await device.nextCommand()];
    expect(arrived.map((message) => message.commandType)).toEqual(['first', 'second', 'third']);
    expect(await statusesOf(app, tenant.token, commands)).toEqual(['SENT', 'SENT', 'SENT']);
  });

  test('a STALE or OFFLINE device holds its commands too; the will (offline) stops nothing already sent', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'flaky');
    const sent = await sendOk(app, tenant.token, { deviceId: 'flaky', commandType: 'before' });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    const offline = nextSettled(app, buildTopic.status(tenant.tenantId, 'flaky'));
    await device.client.publishAsync(buildTopic.status(tenant.tenantId, 'flaky'), status('offline'), { qos: 1 });
    await offline;
    const held = await sendOk(app, tenant.token, { deviceId: 'flaky', commandType: 'while-offline' });
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, [sent, held])).toEqual(['SENT', 'QUEUED']);
    await device.online();
    expect(await device.nextCommand()).toMatchObject({ commandId: held.commandId });
  });

  test('a command whose TTL passed while the device was away is EXPIRED and never sent', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['late']);
    const device = await simulatedDevice(app, tenant.tenantId, 'late');
    const short = await sendOk(app, tenant.token, { deviceId: 'late', commandType: 'short', ttlSeconds: 1 });
    const long = await sendOk(app, tenant.token, { deviceId: 'late', commandType: 'long', ttlSeconds: 3_600 });
    await app.pulse.app.workers.runAllOnce(inFuture(2));
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, [short, long])).toEqual(['EXPIRED', 'QUEUED']);
    await device.online();
    expect(await device.nextCommand()).toMatchObject({ commandId: long.commandId });
    expect(device.received.map((message) => message.commandType)).toEqual(['long']);
  });
});

describe('per-device in-flight cap', () => {
  test(`at most ${CAP} commands in flight; each ack lets the next one out, in order`, async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'capped');
    const commands = [];
    for (let index = 0; index < CAP + 3; index += 1) commands.push(await sendOk(app, tenant.token, { deviceId: 'capped', commandType: `c${index}` }));
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, commands)).toEqual(['SENT', 'SENT', 'SENT', 'QUEUED', 'QUEUED', 'QUEUED']);
    const first = [await device.nextCommand(), await device.nextCommand(), await device.nextCommand()];
    expect(first.map((message) => message.commandType)).toEqual(['c0', 'c1', 'c2']);

    // A failure frees a slot as well as a success does.
    await device.ack(first[1]!.commandId, { status: 'failed', error: 'busy' });
    expect(await device.nextCommand()).toMatchObject({ commandType: 'c3' });
    await device.ack(first[0]!.commandId);
    await device.ack(first[2]!.commandId);
    const rest = [await device.nextCommand(), await device.nextCommand()];
    expect(rest.map((message) => message.commandType)).toEqual(['c4', 'c5']);
    expect(device.received).toHaveLength(CAP + 3);
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, commands)).toEqual(['DELIVERED', 'FAILED', 'DELIVERED', 'SENT', 'SENT', 'SENT']);
  });

  test('a MISSED command frees its slot; the sweep sends what a lost reaction left behind', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'silent');
    const commands = [];
    for (let index = 0; index < CAP; index += 1) commands.push(await sendOk(app, tenant.token, { deviceId: 'silent', commandType: `s${index}`, ttlSeconds: 20 }));
    const waiting = await sendOk(app, tenant.token, { deviceId: 'silent', commandType: 'waiting', ttlSeconds: 3_600 });
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, [...commands, waiting])).toEqual(['SENT', 'SENT', 'SENT', 'QUEUED']);
    for (let index = 0; index < CAP; index += 1) await device.nextCommand();
    await app.pulse.app.workers.runAllOnce(inFuture(21));
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, [...commands, waiting])).toEqual(['MISSED', 'MISSED', 'MISSED', 'SENT']);
    expect(await device.nextCommand()).toMatchObject({ commandType: 'waiting' });

    // Harness-only: a device made ONLINE without an event (as if its reaction died with a crash);
    // only the sweep can find its queue.
    await registerDevices(app, tenant.token, ['orphan']);
    const orphan = await simulatedDevice(app, tenant.tenantId, 'orphan');
    const held = await sendOk(app, tenant.token, { deviceId: 'orphan', commandType: 'held' });
    await app.pulse.app.reactions.idle();
    await db.sql(`UPDATE device_state SET status = 'ONLINE', last_seen_at = now() WHERE tenant_id = $1 AND device_id = 'orphan'`, [tenant.tenantId]);
    await app.pulse.app.workers.runAllOnce();
    expect(await orphan.nextCommand()).toMatchObject({ commandId: held.commandId });
  });
});
