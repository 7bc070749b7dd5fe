import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  addMembers,
  CREATE_STATIC,
  createDynamicGroup,
  createStaticGroup,
  DELETE_GROUP,
  DEVICE_IDS,
  FLEET,
  GROUP_MEMBERS,
  groupMembers,
  listIds,
  ok,
  PREVIEW,
  registerDevice,
  UPDATE_GROUP,
  type GroupResult,
} from './support.js';

/**
 * Tenant isolation of groups and their members (events: see events.test.ts): another tenant's
 * group is NotFound or null on every path, its devices are never members, and a dynamic group
 * matching everything holds only its own tenant's devices.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

const NODE = `query($id: ID!) { node(id: $id) { id ... on DeviceGroup { groupId name memberCount } } }`;
const GROUP = `query($groupId: String!, $tenantId: String) { deviceGroup(groupId: $groupId, tenantId: $tenantId) { groupId name memberCount } }`;

describe('tenant isolation of groups', () => {
  test("tenant B never sees, changes or fills tenant A's groups, and A's devices are never B's members", async ({ tenant: a, otherTenant: b }) => {
    // The same device IDs in both tenants.
    for (const token of [a.token, b.token]) {
      await registerDevice(app, token, { deviceId: 'shared-1', tags: [{ key: 'k', value: 'v' }] });
      await registerDevice(app, token, { deviceId: 'shared-2', tags: [{ key: 'k', value: 'v' }] });
    }
    await registerDevice(app, a.token, { deviceId: 'only-a', tags: [{ key: 'k', value: 'v' }] });
    const aStatic = await ok<{ createDeviceGroup: GroupResult }>(app, a.token, CREATE_STATIC, { input: { name: 'A static' } });
    const aStaticId = aStatic.createDeviceGroup.group!.groupId;
    const aStaticNode = aStatic.createDeviceGroup.group!.id;
    await addMembers(app, a.token, aStaticId, ['shared-1', 'only-a']);
    const aDynamicId = await createDynamicGroup(app, a.token, 'A everything', {});

    // Reads: list, by ID, node(id), members through every path.
    expect((await ok<{ deviceGroups: { totalCount: number } }>(app, b.token, `{ deviceGroups { totalCount } }`)).deviceGroups.totalCount).toBe(0);
    for (const groupId of [aStaticId, aDynamicId]) {
      expect((await ok<{ deviceGroup: unknown }>(app, b.token, GROUP, { groupId })).deviceGroup).toBeNull();
      // Naming A's tenant explicitly changes nothing for a customer.
      expect((await ok<{ deviceGroup: unknown }>(app, b.token, GROUP, { groupId, tenantId: a.tenantId })).deviceGroup).toBeNull();
      expect((await app.gql(b.token, DEVICE_IDS, { filter: { groupId } })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      expect((await app.gql(b.token, PREVIEW, { filter: { groupId } })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      expect((await app.gql(b.token, FLEET, { filter: { groupId }, groupBy: ['STATUS'] })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
    expect(await ok(app, b.token, NODE, { id: aStaticNode })).toEqual({ node: null });
    expect(await ok(app, a.token, NODE, { id: aStaticNode })).toEqual({ node: { id: aStaticNode, groupId: aStaticId, name: 'A static', memberCount: 2 } });

    // Writes: update, delete, membership changes of A's group are NotFound; A's group is unchanged.
    expect((await ok<{ updateDeviceGroup: GroupResult }>(app, b.token, UPDATE_GROUP, { input: { groupId: aStaticId, name: 'pwned' } })).updateDeviceGroup.__typename).toBe('NotFound');
    expect((await ok<{ updateDeviceGroup: GroupResult }>(app, b.token, UPDATE_GROUP, { input: { groupId: aDynamicId, queryFilter: { siteId: 'x' } } })).updateDeviceGroup.__typename).toBe('NotFound');
    expect((await ok<{ deleteDeviceGroup: GroupResult }>(app, b.token, DELETE_GROUP, { input: { groupId: aStaticId } })).deleteDeviceGroup.__typename).toBe('NotFound');
    const bStaticId = await createStaticGroup(app, b.token, 'B static');
    const bAdd = await addMembers(app, b.token, bStaticId, ['only-a', 'shared-2']);
    // A device ID that exists only in A is NOT_FOUND for B; the same ID in B is B's own device.
    expect(bAdd.results).toEqual([{ deviceId: 'only-a', outcome: 'NOT_FOUND' }, { deviceId: 'shared-2', outcome: 'ADDED' }]);
    expect(await groupMembers(app, a.token, aStaticId)).toEqual({ ids: ['only-a', 'shared-1'], memberCount: 2 });

    // B's dynamic group matching everything holds B's devices only; so do B's previews and summaries.
    const bEverything = await createDynamicGroup(app, b.token, 'B everything', { tags: [{ key: 'k', value: 'v' }] });
    expect(await groupMembers(app, b.token, bEverything)).toEqual({ ids: ['shared-1', 'shared-2'], memberCount: 2 });
    expect(await listIds(app, b.token, { tags: [{ key: 'k' }] })).toEqual(['shared-1', 'shared-2']);
    expect((await ok<{ previewDynamicGroup: { memberCount: number } }>(app, b.token, PREVIEW, { filter: {} })).previewDynamicGroup.memberCount).toBe(2);
    expect((await ok<{ fleetSummary: { total: number } }>(app, b.token, FLEET, { groupBy: ['STATUS'] })).fleetSummary.total).toBe(2);
    // Device.groups of B's shared-1 lists B's groups only, and A's of A's only.
    const groupsOf = async (token: string) =>
      (await ok<{ device: { groups: Array<{ name: string }> } }>(app, token, `{ device(deviceId: "shared-1") { groups { name } } }`)).device.groups.map((group) => group.name);
    expect(await groupsOf(b.token)).toEqual(['B everything']);
    expect(await groupsOf(a.token)).toEqual(['A everything', 'A static']);

    // A's members page is A's devices, even for the IDs B has too.
    const aPage = await ok<{ deviceGroup: { members: { edges: Array<{ node: { deviceId: string } }> } } }>(app, a.token, GROUP_MEMBERS, { groupId: aDynamicId, first: 10 });
    expect(aPage.deviceGroup.members.edges.map((edge) => edge.node.deviceId)).toEqual(['only-a', 'shared-1', 'shared-2']);
  });

  test('operators read any tenant’s groups but cannot change them', async ({ tenant }) => {
    await registerDevice(app, tenant.token, { deviceId: 'op-1' });
    const groupId = await createStaticGroup(app, tenant.token, 'watched');
    await addMembers(app, tenant.token, groupId, ['op-1']);
    expect((await ok<{ deviceGroup: unknown }>(app, tenant.operatorToken, GROUP, { groupId, tenantId: tenant.tenantId })).deviceGroup).toEqual({ groupId, name: 'watched', memberCount: 1 });
    const refused = await app.gql(tenant.operatorToken, CREATE_STATIC, { input: { name: 'by operator' } });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});
