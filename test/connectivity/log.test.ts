import { buildTopic } from '../harness/topics.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { closeClients, deviceClient, keepPresence, presenceOf, publishSettled, registerDevice, status } from './support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const MINUTE = 60_000;
const UPSERT = /* GraphQL */ `
  mutation($input: UpsertDeviceConnectionInput!) { upsertDeviceConnection(input: $input) { __typename ... on Error { message } } }`;
const UPTIME = /* GraphQL */ `
  query($deviceId: String!, $since: DateTime, $until: DateTime) {
    device(deviceId: $deviceId) { uptime(since: $since, until: $until) { since until onlineSeconds ratio } }
  }`;

async function uptime(token: string, deviceId: string, since: Date, until: Date) {
  const result = await app.gql<{ device: { uptime: { onlineSeconds: number; ratio: number } } }>(token, UPTIME, { deviceId, since, until });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.device.uptime;
}

describe('uptime', () => {
  test('is computed from the log over a window: whole, partial, before and after the events', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'up');
    const t0 = Date.now() - 120 * MINUTE;
    // Carrier-reported attach at t0+60 min and detach at t0+90 min: the device was ONLINE for 30 min.
    const attach = new Date(t0 + 60 * MINUTE);
    const detach = new Date(t0 + 90 * MINUTE);
    const upsert = await app.gql(tenant.token, UPSERT, {
      input: { deviceId: 'up', networkStatus: 'DISCONNECTED', lastNetworkAttach: attach, lastNetworkDetach: detach },
    });
    expect(upsert.data?.['upsertDeviceConnection']).toEqual({ __typename: 'UpsertDeviceConnectionPayload' });

    expect(await uptime(tenant.token, 'up', new Date(t0), new Date(t0 + 120 * MINUTE))).toMatchObject({ onlineSeconds: 1_800, ratio: 0.25 });
    expect(await uptime(tenant.token, 'up', new Date(t0 + 65 * MINUTE), new Date(t0 + 85 * MINUTE))).toMatchObject({ onlineSeconds: 1_200, ratio: 1 });
    expect(await uptime(tenant.token, 'up', new Date(t0 + 80 * MINUTE), new Date(t0 + 100 * MINUTE))).toMatchObject({ onlineSeconds: 600, ratio: 0.5 });
    expect(await uptime(tenant.token, 'up', new Date(t0), new Date(t0 + 30 * MINUTE))).toMatchObject({ onlineSeconds: 0, ratio: 0 });
    // The future part of a window is not counted either way.
    const future = await uptime(tenant.token, 'up', new Date(Date.now() + MINUTE), new Date(Date.now() + 2 * MINUTE));
    expect(future).toMatchObject({ onlineSeconds: 0, ratio: 0 });
  });

  test('an inverted window is a validation error naming the argument', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'inv');
    const result = await app.gql(tenant.token, UPTIME, { deviceId: 'inv', since: new Date(), until: new Date(Date.now() - MINUTE) });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'VALIDATION_FAILED' } });
    expect(result.errors?.[0]?.message).toMatch(/since: must be before until/);
  });
});

describe('connection events', () => {
  const EVENTS = /* GraphQL */ `
    query($deviceId: String!, $first: Int, $after: String, $since: DateTime, $until: DateTime) {
      device(deviceId: $deviceId) {
        connectionEvents(first: $first, after: $after, since: $since, until: $until) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { reason sessionId occurredAt } }
        }
      }
    }`;
  type Page = { device: { connectionEvents: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: Array<{ node: { sessionId: string; occurredAt: string } }> } } };

  test('page newest first with cursors and filter by a time window', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'pages');
    const device = await deviceClient({ url: app.mqttUrl });
    const topic = buildTopic.status(tenant.tenantId, 'pages');
    for (let index = 0; index < 5; index += 1) await publishSettled(app, device, topic, status('online', `s${index}`));

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await app.gql<Page>(tenant.token, EVENTS, { deviceId: 'pages', first: 2, after });
      const events = page.data!.device.connectionEvents;
      expect(events.totalCount).toBe(5);
      seen.push(...events.edges.map((edge) => edge.node.sessionId));
      if (!events.pageInfo.hasNextPage) break;
      after = events.pageInfo.endCursor;
    }
    expect(seen).toEqual(['s4', 's3', 's2', 's1', 's0']);

    const all = await app.gql<Page>(tenant.token, EVENTS, { deviceId: 'pages' });
    const times = all.data!.device.connectionEvents.edges.map((edge) => edge.node.occurredAt);
    const window = await app.gql<Page>(tenant.token, EVENTS, { deviceId: 'pages', since: times[3], until: times[1] });
    expect(window.data!.device.connectionEvents.edges.map((edge) => edge.node.sessionId)).toEqual(['s2', 's1']);
  });

  test("a tenant never reads another tenant's log", async ({ tenant, otherTenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'mine');
    const device = await deviceClient({ url: app.mqttUrl });
    await publishSettled(app, device, buildTopic.status(tenant.tenantId, 'mine'), status('online'));
    const foreign = await app.gql<{ device: null }>(otherTenant.token, EVENTS, { deviceId: 'mine' });
    expect(foreign.data?.device).toBeNull();
    expect((await presenceOf(app, tenant.token, 'mine')).events).toHaveLength(1);
  });
});
