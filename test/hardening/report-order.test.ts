/**
 * Issue 14, class 6: device reports apply once, in order. A broker that restarts with persistence
 * redelivers QoS 1 reports the server had already applied (their PUBACKs were lost with it); the
 * same bytes arriving again are what the server sees, so the test replays them over MQTT. The
 * report's `seq` (kept in device_state.reported_seq) makes each a duplicate.
 */
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { buildTopic } from '../harness/topics.js';
import { closeClients, deviceClient, publishSettled, registerDevice } from '../connectivity/support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ MQTT_URL: '', MQTT_PORT: '0' });
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

type Twin = { reported: Record<string, unknown>; reportedVersion: number };
async function twinOf(tenantToken: string, deviceId: string): Promise<Twin & { history: number }> {
  const result = await app.gql<{ device: { twin: Twin }; twinHistory: { totalCount: number } }>(
    tenantToken,
    'query($d: String!) { device(deviceId: $d) { twin { reported reportedVersion } } twinHistory(deviceId: $d, direction: REPORTED) { totalCount } }',
    { d: deviceId },
  );
  return { ...result.data!.device.twin, history: result.data!.twinHistory.totalCount };
}

describe('twin reports carry a per-device seq', () => {
  test('reports redelivered after newer ones change nothing and are not counted twice', async ({ tenant }) => {
    const device = await registerDevice(app, tenant.token, 'seq');
    const client = await deviceClient({ url: app.mqttUrl, ...device.credentials, clientId: `${tenant.tenantId}/seq`, protocolVersion: 4 });
    const topic = buildTopic.twinReported(tenant.tenantId, 'seq');
    const report = (seq: number) => JSON.stringify({ seq, state: { reading: seq } });
    for (let seq = 101; seq <= 132; seq += 1) expect(await publishSettled(app, client, topic, report(seq))).toEqual({ status: 'applied' });
    expect(await twinOf(tenant.token, 'seq')).toEqual({ reported: { reading: 132 }, reportedVersion: 32, history: 32 });

    // What a broker restart redelivers: 111–132 again, already applied.
    for (let seq = 111; seq <= 132; seq += 1) expect(await publishSettled(app, client, topic, report(seq))).toEqual({ status: 'duplicate' });
    expect(await twinOf(tenant.token, 'seq')).toEqual({ reported: { reading: 132 }, reportedVersion: 32, history: 32 });

    // Out of order: 134 overtakes 133, which then never applies after it.
    expect(await publishSettled(app, client, topic, report(134))).toEqual({ status: 'applied' });
    expect(await publishSettled(app, client, topic, report(133))).toEqual({ status: 'duplicate' });
    expect(await twinOf(tenant.token, 'seq')).toEqual({ reported: { reading: 134 }, reportedVersion: 33, history: 33 });
  });

  test('a newer report that changes nothing still supersedes older ones', async ({ tenant }) => {
    const device = await registerDevice(app, tenant.token, 'same');
    const client = await deviceClient({ url: app.mqttUrl, ...device.credentials, clientId: `${tenant.tenantId}/same`, protocolVersion: 4 });
    const topic = buildTopic.twinReported(tenant.tenantId, 'same');
    expect(await publishSettled(app, client, topic, JSON.stringify({ seq: 1, state: { mode: 'a' } }))).toEqual({ status: 'applied' });
    expect(await publishSettled(app, client, topic, JSON.stringify({ seq: 2, state: { mode: 'b' } }))).toEqual({ status: 'applied' });
    expect(await publishSettled(app, client, topic, JSON.stringify({ seq: 3, state: { mode: 'b' } }))).toEqual({ status: 'duplicate' });
    // seq 2 redelivered would be a no-op anyway; seq 1 would move the twin back to "a".
    expect(await publishSettled(app, client, topic, JSON.stringify({ seq: 1, state: { mode: 'a' } }))).toEqual({ status: 'duplicate' });
    expect(await twinOf(tenant.token, 'same')).toMatchObject({ reported: { mode: 'b' }, reportedVersion: 2 });
  });

  test('seq must be a non-negative safe integer', async ({ tenant }) => {
    const device = await registerDevice(app, tenant.token, 'bad-seq');
    const client = await deviceClient({ url: app.mqttUrl, ...device.credentials, clientId: `${tenant.tenantId}/bad-seq`, protocolVersion: 4 });
    const topic = buildTopic.twinReported(tenant.tenantId, 'bad-seq');
    for (const seq of ['-1', '1.5', '"7"', '9007199254740993']) {
      expect(await publishSettled(app, client, topic, `{"seq":${seq},"state":{"a":1}}`), seq).toEqual({ status: 'rejected', reason: 'INVALID' });
    }
  });
});
