import { ingestTelemetry } from '../../src/modules/telemetry/ingest.js';
import type { InboundMessage } from '../../src/mqtt/ingest.js';
import { serviceScope } from '../../src/kernel/scope.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { buildTopic } from '../harness/topics.js';
import { closeClients, counterValue, gqlData, latestOf, publishSettled, registerDevices, telemetryPublisher } from './support.js';

let app: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  app = await startTestApp({}, { autoStartWorkers: false, onQuery: (sql) => statements.push(sql) });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const COUNT = /* GraphQL */ `
  query Count($deviceId: String!, $metric: String!, $from: DateTime!, $to: DateTime!) {
    device(deviceId: $deviceId) { telemetryHistory(metric: $metric, from: $from, to: $to, bucket: "1 day", aggregate: COUNT) { value count } }
  }`;

async function sampleCount(token: string, deviceId: string, metric: string): Promise<number> {
  const now = Date.now();
  const data = await gqlData<{ device: { telemetryHistory: Array<{ count: number }> } | null }>(app, token, COUNT, {
    deviceId,
    metric,
    from: new Date(now - 8 * 86_400_000).toISOString(),
    to: new Date(now + 86_400_000).toISOString(),
  });
  return (data.device?.telemetryHistory ?? []).reduce((sum, bucket) => sum + bucket.count, 0);
}

describe('telemetry ingest over MQTT', () => {
  test('a single reading without ts is stamped on receipt; numbers, booleans and strings keep their type', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['s1']);
    const device = await telemetryPublisher(app, tenant.tenantId);
    const before = Date.now();
    expect(await device.send('s1', { metrics: { temp: 21.5, door: true, mode: 'eco' } })).toEqual({ status: 'applied' });
    const latest = await latestOf(app, tenant.token, 's1');
    expect(latest?.map(({ metric, value, type }) => ({ metric, value, type }))).toEqual([
      { metric: 'door', value: true, type: 'BOOLEAN' },
      { metric: 'mode', value: 'eco', type: 'STRING' },
      { metric: 'temp', value: 21.5, type: 'NUMBER' },
    ]);
    const stamped = new Date(latest![0]!.ts).getTime();
    expect(stamped).toBeGreaterThanOrEqual(before - 5);
    expect(stamped).toBeLessThanOrEqual(Date.now() + 5);
    expect(await latestOf(app, tenant.token, 's1', ['temp'])).toHaveLength(1);
  });

  test('a batch is stored with one multi-row INSERT (the latest values in the same statement); the latest value is the newest sample, whatever the order', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['b1']);
    const device = await telemetryPublisher(app, tenant.tenantId);
    const t0 = Date.now() - 3_600_000;
    const batch = Array.from({ length: 120 }, (_, i) => ({ ts: t0 + i * 1_000, metrics: { v: i, even: i % 2 === 0 } }));
    const newest = batch.pop()!;
    batch.unshift(newest); // the newest first: arrival order must not decide what is latest
    statements = [];
    expect(await device.send('b1', batch)).toEqual({ status: 'applied' });
    const writes = statements.filter((sql) => /INSERT INTO telemetry/.test(sql));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/INSERT INTO telemetry_latest/);
    expect(await sampleCount(tenant.token, 'b1', 'v')).toBe(120);
    expect((await latestOf(app, tenant.token, 'b1', ['v']))?.[0]).toMatchObject({ value: 119, ts: new Date(t0 + 119_000).toISOString() });

    // An older sample arriving late is stored but does not move the latest value back.
    expect(await device.send('b1', { ts: t0 - 60_000, metrics: { v: -1 } })).toEqual({ status: 'applied' });
    expect((await latestOf(app, tenant.token, 'b1', ['v']))?.[0]?.value).toBe(119);
    expect(await sampleCount(tenant.token, 'b1', 'v')).toBe(121);
  });

  test('a redelivered message is a duplicate: nothing is stored twice', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['r1']);
    const device = await telemetryPublisher(app, tenant.tenantId);
    const payload = { ts: new Date(Date.now() - 1_000).toISOString(), metrics: { v: 1, w: 2 } };
    expect(await device.send('r1', payload)).toEqual({ status: 'applied' });
    expect(await device.send('r1', payload)).toEqual({ status: 'duplicate' });
    expect(await sampleCount(tenant.token, 'r1', 'v')).toBe(1);
  });

  test.for<[string, (tenantId: string) => { deviceId: string; payload: string | Buffer }, string]>([
    ['a bad metric name', () => ({ deviceId: 'x1', payload: JSON.stringify({ metrics: { 'bad name': 1 } }) }), 'INVALID'],
    ['an object value', () => ({ deviceId: 'x1', payload: JSON.stringify({ metrics: { v: { nested: 1 } } }) }), 'INVALID'],
    ['a clock never set (1970)', () => ({ deviceId: 'x1', payload: JSON.stringify({ ts: 0, metrics: { v: 1 } }) }), 'TIMESTAMP_TOO_OLD'],
    ['a sample a day ahead', () => ({ deviceId: 'x1', payload: JSON.stringify({ ts: Date.now() + 86_400_000, metrics: { v: 1 } }) }), 'TIMESTAMP_IN_FUTURE'],
    ['a payload over 256 KiB', () => ({ deviceId: 'x1', payload: JSON.stringify({ metrics: { v: 'x'.repeat(300_000) } }) }), 'TOO_LARGE'],
    ['not JSON', () => ({ deviceId: 'x1', payload: '{"metrics":' }), 'NOT_JSON'],
    ['an unknown device', () => ({ deviceId: 'nobody', payload: JSON.stringify({ metrics: { v: 1 } }) }), 'UNKNOWN_DEVICE'],
  ])('%s is rejected, counted, and stores nothing', async ([, make, reason], { tenant }) => {
    await registerDevices(app, tenant.token, ['x1']);
    const { deviceId, payload } = make(tenant.tenantId);
    const device = await telemetryPublisher(app, tenant.tenantId);
    const counted = await counterValue(app, 'mqttRejected', { kind: 'telemetry', reason });
    expect(await publishSettled(app, device.client, buildTopic.telemetry(tenant.tenantId, deviceId), payload)).toEqual({ status: 'rejected', reason });
    expect(await counterValue(app, 'mqttRejected', { kind: 'telemetry', reason })).toBe(counted + 1);
    expect(await latestOf(app, tenant.token, 'x1')).toEqual([]);
  });

  test('samples are tenant-isolated: another tenant sees neither the device nor its rows', async ({ tenant, otherTenant }) => {
    await registerDevices(app, tenant.token, ['iso']);
    await registerDevices(app, otherTenant.token, ['iso']);
    const device = await telemetryPublisher(app, tenant.tenantId);
    expect(await device.send('iso', { metrics: { secret: 42 } })).toEqual({ status: 'applied' });
    expect(await latestOf(app, otherTenant.token, 'iso')).toEqual([]);
    // Row-level security, below the API: the other tenant's own transaction finds none of the rows.
    const scope = { tenantId: otherTenant.tenantId, role: 'customer' as const, actorId: 'test' };
    const visible = await app.pulse.app.runner.run(scope, async (session) => ({
      samples: await session.db.telemetry.count({ where: { tenantId: tenant.tenantId } }),
      latest: await session.db.telemetryLatest.count({ where: { tenantId: tenant.tenantId } }),
    }));
    expect(visible).toEqual({ samples: 0, latest: 0 });
    expect((await latestOf(app, tenant.token, 'iso'))?.map((value) => value.value)).toEqual([42]);
  });
});

describe('handleMany', () => {
  test('a bridge batch of many messages is one INSERT (with its latest upsert), one outcome per message in order', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['m1', 'm2']);
    const receivedAt = new Date();
    const message = (deviceId: string, ts: number, value: number): InboundMessage<'telemetry'> => ({
      kind: 'telemetry',
      tenantId: tenant.tenantId,
      deviceId,
      params: {},
      payload: [{ ts: new Date(ts), metrics: { v: value } }],
      receivedAt,
      redelivered: false,
    });
    const t = receivedAt.getTime() - 10_000;
    const messages = [
      message('m1', t, 1),
      message('m2', t, 2),
      message('nobody', t, 3),
      message('m1', t + 1, 4),
      { ...message('m2', 0, 5), payload: [{ ts: new Date(0), metrics: { v: 5 } }] },
      message('m1', t, 1),
    ];
    statements = [];
    const outcomes = await app.pulse.app.runner.run(serviceScope('test'), (session) => ingestTelemetry(session, app.pulse.app.services, messages));
    expect(outcomes).toEqual([
      { status: 'applied' },
      { status: 'applied' },
      { status: 'rejected', reason: 'UNKNOWN_DEVICE' },
      { status: 'applied' },
      { status: 'rejected', reason: 'TIMESTAMP_TOO_OLD' },
      // The same sample as the first message: already in this batch, so nothing new.
      { status: 'duplicate' },
    ]);
    const writes = statements.filter((sql) => /INSERT INTO telemetry/.test(sql));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/INSERT INTO telemetry_latest/);
    expect((await latestOf(app, tenant.token, 'm1'))?.map((v) => v.value)).toEqual([4]);
  });
});
