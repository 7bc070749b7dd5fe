import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { registerDevice } from '../connectivity/support.js';
import {
  closeClients,
  good,
  links,
  linksPage,
  poll,
  prepareTenant,
  registerCpe,
  registerInterface,
  setThresholds,
  startAccessPoint,
  TEST_THRESHOLDS,
  uniqueMac,
  weak,
} from './helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

/** Two APs, three CPEs: ap-1 → cpe-a (ACTIVE), ap-1 → cpe-b (DEGRADED), ap-2 → cpe-a (DISCOVERED), ap-2 → unknown MAC. */
async function seedNetwork(tenant: { tenantId: string; token: string }) {
  await prepareTenant(app, tenant.token);
  await app.gql(tenant.token, `mutation { createSite(input: { siteId: "north", name: "North" }) { __typename } }`);
  const ap1 = await startAccessPoint(app, tenant, 'ap-1');
  const ap2 = await startAccessPoint(app, tenant, 'ap-2');
  const [a, b, c] = [uniqueMac(), uniqueMac(), uniqueMac()];
  await registerCpe(app, tenant.token, 'cpe-a', a);
  await registerDevice(app, tenant.token, 'cpe-b');
  await app.gql(tenant.token, `mutation { updateDevice(input: { deviceId: "cpe-b", siteId: "north" }) { __typename } }`);
  await registerInterface(app, tenant.token, { deviceId: 'cpe-b', name: 'wlan0', macAddress: b });
  await poll(app, ap1, [good(a), weak(b)]);
  await poll(app, ap1, [good(a), weak(b)]);
  await poll(app, ap2, [good(a), good(c)]);
  return { a, b, c };
}

const pairs = (list: Array<{ apDeviceId: string; cpeDeviceId: string | null }>) => list.map((link) => `${link.apDeviceId}>${link.cpeDeviceId}`).sort();

describe('wirelessLinks', () => {
  test('filters by AP, CPE, either side, state, site and group', async ({ tenant }) => {
    await seedNetwork(tenant);
    expect(pairs(await links(app, tenant.token))).toEqual(['ap-1>cpe-a', 'ap-1>cpe-b', 'ap-2>cpe-a']);
    expect(pairs(await links(app, tenant.token, { apDeviceId: 'ap-1' }))).toEqual(['ap-1>cpe-a', 'ap-1>cpe-b']);
    expect(pairs(await links(app, tenant.token, { cpeDeviceId: 'cpe-a' }))).toEqual(['ap-1>cpe-a', 'ap-2>cpe-a']);
    expect(pairs(await links(app, tenant.token, { deviceId: 'ap-2' }))).toEqual(['ap-2>cpe-a']);
    expect(pairs(await links(app, tenant.token, { state: ['DEGRADED', 'DISCOVERED'] }))).toEqual(['ap-1>cpe-b', 'ap-2>cpe-a']);
    expect(pairs(await links(app, tenant.token, { state: ['DOWN'] }))).toEqual([]);
    expect(pairs(await links(app, tenant.token, { siteId: 'north' }))).toEqual(['ap-1>cpe-b']);

    const created = await app.gql<{ createDeviceGroup: { group: { groupId: string } } }>(
      tenant.token,
      `mutation { createDeviceGroup(input: { name: "Backbone" }) { ... on CreateDeviceGroupPayload { group { groupId } } } }`,
    );
    const groupId = created.data!.createDeviceGroup.group.groupId;
    await app.gql(tenant.token, `mutation($input: GroupMembersInput!) { addDevicesToGroup(input: $input) { __typename } }`, { input: { groupId, deviceIds: ['ap-2'] } });
    expect(pairs(await links(app, tenant.token, { groupId }))).toEqual(['ap-2>cpe-a']);
    const unknown = await linksPage(app, tenant.token, { filter: { groupId: 'nope' } });
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });

  test('pages by cursor with a total count; a foreign cursor is a validation error', async ({ tenant }) => {
    await seedNetwork(tenant);
    const first = await linksPage(app, tenant.token, { first: 2 });
    expect(first.errors).toBeUndefined();
    expect(first.data!.wirelessLinks).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    const second = await linksPage(app, tenant.token, { first: 2, after: first.data!.wirelessLinks.pageInfo.endCursor });
    expect(second.data!.wirelessLinks).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false } });
    const ids = [...first.data!.wirelessLinks.edges, ...second.data!.wirelessLinks.edges].map((edge) => edge.node.linkId);
    expect(new Set(ids).size).toBe(3);
    expect([...ids].sort()).toEqual(ids);

    const bad = await linksPage(app, tenant.token, { first: 2, after: "x' OR 1=1" });
    expect(bad.errors?.[0]?.extensions?.['code']).toBe('VALIDATION_FAILED');
    const invalidFilter = await linksPage(app, tenant.token, { filter: { apDeviceId: 'a/b' } });
    expect(invalidFilter.errors?.[0]?.extensions?.['code']).toBe('VALIDATION_FAILED');
  });

  test("only the caller's tenant; operators read across tenants and may narrow to one", async ({ tenant, otherTenant }) => {
    await seedNetwork(tenant);
    expect(await links(app, otherTenant.token)).toEqual([]);
    const asOperator = await links(app, otherTenant.operatorToken, { tenantId: tenant.tenantId });
    expect(pairs(asOperator)).toEqual(['ap-1>cpe-a', 'ap-1>cpe-b', 'ap-2>cpe-a']);
    // The filter's tenantId means nothing to a customer: still only its own tenant.
    expect(await links(app, otherTenant.token, { tenantId: tenant.tenantId })).toEqual([]);
  });

  test('Device.wirelessLinks lists the device as AP or CPE; node(id) refetches a link', async ({ tenant, otherTenant }) => {
    await seedNetwork(tenant);
    const query = /* GraphQL */ `
      query($deviceId: String!, $state: [WirelessLinkState!]) {
        device(deviceId: $deviceId) { wirelessLinks(first: 10, state: $state) { totalCount edges { node { id apDeviceId cpeDeviceId state } } } }
      }`;
    type Result = { device: { wirelessLinks: { totalCount: number; edges: Array<{ node: { id: string; apDeviceId: string; cpeDeviceId: string; state: string } }> } } };
    const cpe = await app.gql<Result>(tenant.token, query, { deviceId: 'cpe-a' });
    expect(cpe.errors).toBeUndefined();
    expect(cpe.data!.device.wirelessLinks.totalCount).toBe(2);
    const ap = await app.gql<Result>(tenant.token, query, { deviceId: 'ap-1', state: ['ACTIVE'] });
    expect(ap.data!.device.wirelessLinks.edges.map((edge) => edge.node.cpeDeviceId)).toEqual(['cpe-a']);

    const id = ap.data!.device.wirelessLinks.edges[0]!.node.id;
    const NODE = `query($id: ID!) { node(id: $id) { ... on WirelessLink { apDeviceId cpeDeviceId state ap { deviceId } } } }`;
    expect((await app.gql(tenant.token, NODE, { id })).data).toEqual({ node: { apDeviceId: 'ap-1', cpeDeviceId: 'cpe-a', state: 'ACTIVE', ap: { deviceId: 'ap-1' } } });
    expect((await app.gql(otherTenant.token, NODE, { id })).data).toEqual({ node: null });
  });
});

describe('thresholds', () => {
  const READ = `{ wirelessLinkThresholds { signalDegradeDbm signalRecoverDbm snrDegradeDb snrRecoverDb confirmPolls downAfterMissedPolls minDwellSeconds staleAfterSeconds apSilentAfterSeconds } }`;

  test("the server's defaults, then the tenant's own; null goes back to the default", async ({ tenant }) => {
    expect((await app.gql(tenant.token, READ)).data).toEqual({
      wirelessLinkThresholds: {
        signalDegradeDbm: -75,
        signalRecoverDbm: -70,
        snrDegradeDb: 15,
        snrRecoverDb: 20,
        confirmPolls: 3,
        downAfterMissedPolls: 3,
        minDwellSeconds: 60,
        staleAfterSeconds: 3600,
        apSilentAfterSeconds: 600,
      },
    });
    expect(await setThresholds(app, tenant.token, { signalDegradeDbm: -80, signalRecoverDbm: -72, confirmPolls: 5 })).toMatchObject({
      thresholds: { signalDegradeDbm: -80, signalRecoverDbm: -72, confirmPolls: 5, snrDegradeDb: 15 },
    });
    expect(await setThresholds(app, tenant.token, { confirmPolls: null })).toMatchObject({ thresholds: { confirmPolls: 3, signalDegradeDbm: -80 } });
  });

  test('recover must stay above degrade, values in range, nothing changes otherwise', async ({ tenant }) => {
    await setThresholds(app, tenant.token, TEST_THRESHOLDS);
    expect(await setThresholds(app, tenant.token, { signalRecoverDbm: -80 })).toMatchObject({ __typename: 'ValidationError', issues: [{ code: 'OUT_OF_ORDER' }] });
    expect(await setThresholds(app, tenant.token, { snrDegradeDb: 25 })).toMatchObject({ __typename: 'ValidationError', issues: [{ code: 'OUT_OF_ORDER' }] });
    expect(await setThresholds(app, tenant.token, { confirmPolls: 0 })).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'confirmPolls'] }] });
    expect(await setThresholds(app, tenant.token, { signalDegradeDbm: 10 })).toMatchObject({ __typename: 'ValidationError' });
    expect(await setThresholds(app, tenant.token, { staleAfterSeconds: 10_000_000 })).toMatchObject({ __typename: 'ValidationError' });
    expect((await app.gql<{ wirelessLinkThresholds: Record<string, number> }>(tenant.token, READ)).data!.wirelessLinkThresholds).toMatchObject({
      signalRecoverDbm: -70,
      snrDegradeDb: 15,
      ...TEST_THRESHOLDS,
    });
    const operator = await app.gql(tenant.operatorToken, `mutation { setWirelessLinkThresholds(input: { confirmPolls: 4 }) { __typename } }`);
    expect(operator.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});
