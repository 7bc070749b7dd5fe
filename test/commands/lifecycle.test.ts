import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import type { TestApp } from '../harness/app.js';
import { buildTopic } from '../harness/topics.js';
import { nextSettled } from '../connectivity/support.js';
import {
  CANCEL_COMMAND,
  closeDevices,
  counterValue,
  onlineDevice,
  privateDatabase,
  readCommand,
  registerDevices,
  sendOk,
  simulatedDevice,
  startOn,
  statusesOf,
  type PrivateDatabase,
} from './support.js';

/** A command's life from sendCommand to the device's ack, and every ack that must change nothing. */
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

describe('sendCommand to an online device', () => {
  test('QUEUED → SENT on the broker’s PUBACK → DELIVERED on the device’s ack, with the ack kept', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'dev-1');
    const created = await sendOk(app, tenant.token, { deviceId: 'dev-1', commandType: 'set-interval', params: { seconds: 30 }, ttlSeconds: 600 });
    // The mutation answers before the hand-over, which only starts after its commit.
    expect(created).toMatchObject({ status: 'QUEUED', sentAt: null, attempts: 0, ttlSeconds: 600, params: { seconds: 30 } });

    const message = await device.nextCommand();
    expect(message).toEqual({ commandId: created.commandId, commandType: 'set-interval', params: { seconds: 30 }, expiresAt: created.expiresAt });
    await app.pulse.app.reactions.idle();
    const sent = await readCommand(app, tenant.token, created.id);
    expect(sent).toMatchObject({ status: 'SENT', attempts: 1 });
    expect(sent!.sentAt).not.toBeNull();

    expect(await device.ack(created.commandId, { status: 'delivered', result: { applied: true } })).toEqual({ status: 'applied' });
    const delivered = await readCommand(app, tenant.token, created.id);
    expect(delivered).toMatchObject({ status: 'DELIVERED', result: { applied: true }, ack: { status: 'delivered', result: { applied: true } }, failureReason: null });
    expect(delivered!.deliveredAt).not.toBeNull();
    expect(delivered!.ackedAt).not.toBeNull();
    expect(device.received).toHaveLength(1);

    // Reads: node(id), Device.commands (newest first), Query.commands with a filter.
    const second = await sendOk(app, tenant.token, { deviceId: 'dev-1', commandType: 'ping' });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    const reads = await app.gql<{
      node: { commandId: string } | null;
      device: { commands: { totalCount: number; edges: Array<{ node: { commandId: string; status: string } }> } };
      delivered: { totalCount: number; edges: Array<{ node: { commandId: string } }> };
      pings: { totalCount: number };
    }>(
      tenant.token,
      `query($id: ID!, $after: DateTime!) {
        node(id: $id) { ... on Command { commandId } }
        device(deviceId: "dev-1") { commands(first: 10) { totalCount edges { node { commandId status } } } }
        delivered: commands(filter: { status: [DELIVERED], createdAfter: $after }) { totalCount edges { node { commandId } } }
        pings: commands(filter: { commandType: "ping" }) { totalCount }
      }`,
      { id: created.id, after: new Date(Date.now() - 60_000).toISOString() },
    );
    expect(reads.errors).toBeUndefined();
    expect(reads.data!.node).toEqual({ commandId: created.commandId });
    expect(reads.data!.device.commands.edges.map((edge) => edge.node)).toEqual([
      { commandId: second.commandId, status: 'SENT' },
      { commandId: created.commandId, status: 'DELIVERED' },
    ]);
    expect(reads.data!.delivered.edges.map((edge) => edge.node.commandId)).toEqual([created.commandId]);
    expect(reads.data!.pings.totalCount).toBe(1);
    // A plain commandId works as command(id) too.
    expect((await readCommand(app, tenant.token, created.commandId))?.commandId).toBe(created.commandId);
  });

  test('a failure ack keeps the device’s reason and payload: FAILED', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'dev-f');
    const created = await sendOk(app, tenant.token, { deviceId: 'dev-f', commandType: 'firmware.update', params: { url: 'x' } });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    expect(await device.ack(created.commandId, { status: 'failed', error: 'checksum mismatch', result: { stage: 'verify' } })).toEqual({ status: 'applied' });
    const failed = await readCommand(app, tenant.token, created.id);
    expect(failed).toMatchObject({ status: 'FAILED', failureReason: 'checksum mismatch', result: { stage: 'verify' }, deliveredAt: null });
    expect(failed!.failedAt).not.toBeNull();
  });
});

describe('acks that must change nothing', () => {
  test('a redelivered ack and a second verdict are duplicates; the command moved once', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'dup');
    const created = await sendOk(app, tenant.token, { deviceId: 'dup' });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    const before = await counterValue(app, 'acks', 'outcome', 'duplicate');
    const transitions = await counterValue(app, 'transitions', 'status', 'DELIVERED');
    expect(await device.ack(created.commandId)).toEqual({ status: 'applied' });
    expect(await device.ack(created.commandId)).toEqual({ status: 'duplicate' });
    expect(await device.ack(created.commandId, { status: 'failed', error: 'second thoughts' })).toEqual({ status: 'duplicate' });
    expect(await readCommand(app, tenant.token, created.id)).toMatchObject({ status: 'DELIVERED', failureReason: null });
    expect((await counterValue(app, 'acks', 'outcome', 'duplicate')) - before).toBe(2);
    expect((await counterValue(app, 'transitions', 'status', 'DELIVERED')) - transitions).toBe(1);
  });

  test('two acks of one command in one batch: the first applies, the second is a duplicate', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'batch-dup');
    const created = await sendOk(app, tenant.token, { deviceId: 'batch-dup' });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    const topic = buildTopic.commandAck(tenant.tenantId, 'batch-dup', created.commandId);
    const both = Promise.all([nextSettled(app, topic, 1), nextSettled(app, topic, 2)]);
    await Promise.all([
      device.client.publishAsync(topic, JSON.stringify({ status: 'failed', error: 'first' }), { qos: 1 }),
      device.client.publishAsync(topic, JSON.stringify({ status: 'delivered' }), { qos: 1 }),
    ]);
    expect(await both).toEqual([{ status: 'applied' }, { status: 'duplicate' }]);
    expect(await readCommand(app, tenant.token, created.id)).toMatchObject({ status: 'FAILED', failureReason: 'first' });
  });

  test('a foreign ack (another device, or another tenant’s, acking this command) and an ack of an unknown command are refused', async ({ tenant, otherTenant }) => {
    const owner = await onlineDevice(app, tenant.token, tenant.tenantId, 'owner');
    const intruder = await onlineDevice(app, tenant.token, tenant.tenantId, 'intruder');
    // Same device ID in another tenant: its prefix is its own tenant's.
    const stranger = await onlineDevice(app, otherTenant.token, otherTenant.tenantId, 'owner');
    const created = await sendOk(app, tenant.token, { deviceId: 'owner' });
    await owner.nextCommand();
    await app.pulse.app.reactions.idle();
    const unknown = await counterValue(app, 'acks', 'outcome', 'unknown');
    expect(await intruder.ack(created.commandId)).toEqual({ status: 'rejected', reason: 'UNKNOWN_COMMAND' });
    expect(await stranger.ack(created.commandId)).toEqual({ status: 'rejected', reason: 'UNKNOWN_COMMAND' });
    expect(await intruder.ack('no-such-command')).toEqual({ status: 'rejected', reason: 'UNKNOWN_COMMAND' });
    expect(await readCommand(app, tenant.token, created.id)).toMatchObject({ status: 'SENT', ackedAt: null });
    expect((await counterValue(app, 'acks', 'outcome', 'unknown')) - unknown).toBe(3);
  });

  test('an ack of a command never handed to the broker is unknown; an ack of a cancelled one is late', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['sleeper', 'waker']);
    const sleeper = await simulatedDevice(app, tenant.tenantId, 'sleeper');
    const cancelled = await sendOk(app, tenant.token, { deviceId: 'sleeper', commandType: 'never' });
    await app.pulse.app.reactions.idle();
    const cancel = await app.gql<{ cancelCommand: { __typename: string } }>(tenant.token, CANCEL_COMMAND, { id: cancelled.id });
    expect(cancel.data?.cancelCommand.__typename).toBe('CancelCommandPayload');
    const late = await counterValue(app, 'acks', 'outcome', 'late');
    expect(await sleeper.ack(cancelled.commandId)).toEqual({ status: 'duplicate' });
    expect((await counterValue(app, 'acks', 'outcome', 'late')) - late).toBe(1);
    expect(await readCommand(app, tenant.token, cancelled.id)).toMatchObject({ status: 'CANCELLED', ackedAt: null });

    const waker = await simulatedDevice(app, tenant.tenantId, 'waker');
    const held = await sendOk(app, tenant.token, { deviceId: 'waker' });
    await app.pulse.app.reactions.idle();
    expect(await waker.ack(held.commandId)).toEqual({ status: 'rejected', reason: 'UNKNOWN_COMMAND' });
    // Still, that ack was a sign of life: the device is ONLINE now, so its command went out.
    expect(await waker.nextCommand()).toMatchObject({ commandId: held.commandId });
    await app.pulse.app.reactions.idle();
    expect(await statusesOf(app, tenant.token, [held])).toEqual(['SENT']);
  });

  test('an ack that overtook the PUBACK record still delivers (QUEUED and handed to the broker → DELIVERED)', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['fast']);
    const device = await simulatedDevice(app, tenant.tenantId, 'fast');
    const created = await sendOk(app, tenant.token, { deviceId: 'fast' });
    await app.pulse.app.reactions.idle();
    // Harness-only: the state between a hand-over and its PUBACK being recorded, made by hand
    // (the window is too short to hit on purpose).
    await db.sql(`UPDATE device_commands SET published_at = now(), attempts = 1 WHERE tenant_id = $1 AND command_id = $2`, [tenant.tenantId, created.commandId]);
    expect(await device.ack(created.commandId, { status: 'delivered', result: { early: true } })).toEqual({ status: 'applied' });
    const delivered = await readCommand(app, tenant.token, created.id);
    expect(delivered).toMatchObject({ status: 'DELIVERED', result: { early: true } });
    // sentAt is filled in: the device had it, so the broker had accepted it.
    expect(delivered!.sentAt).not.toBeNull();
  });

  test('bad ack payloads are rejected and counted like every MQTT payload', async ({ tenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'noisy');
    const created = await sendOk(app, tenant.token, { deviceId: 'noisy' });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    const topic = buildTopic.commandAck(tenant.tenantId, 'noisy', created.commandId);
    const cases: Array<[string | Buffer, string]> = [
      ['{"status":"maybe"}', 'INVALID'],
      ['{"status":"delivered","result":[1,2]}', 'INVALID'],
      [JSON.stringify({ status: 'delivered', result: { blob: 'x'.repeat(20_000) } }), 'INVALID'],
      [JSON.stringify({ status: 'failed', error: 'e'.repeat(5_000) }), 'INVALID'],
      ['{"status":"delivered","__proto__":{"x":1}}', 'INVALID'],
      ['not json', 'NOT_JSON'],
      [Buffer.from([0xff, 0xfe]), 'NOT_UTF8'],
    ];
    for (const [payload, reason] of cases) {
      const settled = nextSettled(app, topic);
      await device.client.publishAsync(topic, payload, { qos: 1 });
      expect(await settled).toEqual({ status: 'rejected', reason });
    }
    const rejected = (await app.pulse.app.metrics.mqttRejected.get()).values.filter((v) => v.labels.kind === 'commandAck');
    expect(rejected.reduce((sum, v) => sum + v.value, 0)).toBeGreaterThanOrEqual(cases.length);
    expect(await readCommand(app, tenant.token, created.id)).toMatchObject({ status: 'SENT' });
    expect(await device.ack(created.commandId)).toEqual({ status: 'applied' });
  });
});
