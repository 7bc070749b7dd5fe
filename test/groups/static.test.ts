import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  ADD_MEMBERS,
  addMembers,
  closeOwnerSql,
  CREATE_STATIC,
  createDynamicGroup,
  createStaticGroup,
  DELETE_GROUP,
  DEVICE_IDS,
  expectResult,
  groupMembers,
  ok,
  registerDevice,
  registerDevices,
  REMOVE_MEMBERS,
  seedDevicesDirectly,
  UPDATE_DEVICE,
  UPDATE_GROUP,
  type GroupResult,
} from './support.js';

/** Static groups: create / update / delete, bulk membership changes with an outcome per ID; Device.groups. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
  await closeOwnerSql();
});

type Outcomes = { results: Array<{ deviceId: string; outcome: string }>; group: { memberCount: number } };
const tally = (results: Outcomes['results']) => results.reduce<Record<string, number>>((counts, { outcome }) => ({ ...counts, [outcome]: (counts[outcome] ?? 0) + 1 }), {});

describe('static groups', () => {
  test('create, rename, re-describe, delete; names are unique per tenant', async ({ tenant, otherTenant }) => {
    const created = await expectResult<GroupResult>(app, tenant.token, CREATE_STATIC, { name: 'Rack 1', description: 'first rack' }, 'CreateDeviceGroupPayload');
    const groupId = created.group!.groupId;
    expect(created.group).toMatchObject({ name: 'Rack 1', groupType: 'STATIC' });
    // The same name in another tenant is another group.
    await createStaticGroup(app, otherTenant.token, 'Rack 1');
    expect((await ok<{ createDeviceGroup: GroupResult }>(app, tenant.token, CREATE_STATIC, { input: { name: 'Rack 1' } })).createDeviceGroup.__typename).toBe('AlreadyExists');
    expect((await ok<{ createDeviceGroup: GroupResult }>(app, tenant.token, CREATE_STATIC, { input: { name: '  ' } })).createDeviceGroup.__typename).toBe('ValidationError');

    await createStaticGroup(app, tenant.token, 'Rack 2');
    const renamed = await expectResult<{ group: { name: string; description: string | null } }>(app, tenant.token, UPDATE_GROUP, { groupId, name: 'Rack A' }, 'UpdateDeviceGroupPayload');
    expect(renamed.group).toMatchObject({ name: 'Rack A', description: 'first rack' });
    const cleared = await expectResult<{ group: { name: string; description: string | null } }>(app, tenant.token, UPDATE_GROUP, { groupId, description: null }, 'UpdateDeviceGroupPayload');
    expect(cleared.group).toMatchObject({ name: 'Rack A', description: null });
    expect((await ok<{ updateDeviceGroup: GroupResult }>(app, tenant.token, UPDATE_GROUP, { input: { groupId, name: 'Rack 2' } })).updateDeviceGroup.__typename).toBe('AlreadyExists');
    expect((await ok<{ updateDeviceGroup: GroupResult }>(app, tenant.token, UPDATE_GROUP, { input: { groupId: 'nope', name: 'x' } })).updateDeviceGroup.__typename).toBe('NotFound');
    // An update that changes nothing is still an answer, not an error.
    expect((await ok<{ updateDeviceGroup: GroupResult }>(app, tenant.token, UPDATE_GROUP, { input: { groupId } })).updateDeviceGroup.__typename).toBe('UpdateDeviceGroupPayload');

    // Paged list, by type.
    await createDynamicGroup(app, tenant.token, 'Everything', {});
    type Groups = { deviceGroups: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: Array<{ node: { name: string; groupType: string } }> } };
    const LIST = `query($first: Int, $after: String, $type: DeviceGroupType) { deviceGroups(first: $first, after: $after, groupType: $type) { totalCount pageInfo { hasNextPage endCursor } edges { node { name groupType } } } }`;
    const first = await ok<Groups>(app, tenant.token, LIST, { first: 2 });
    const rest = await ok<Groups>(app, tenant.token, LIST, { first: 2, after: first.deviceGroups.pageInfo.endCursor });
    expect(first.deviceGroups.totalCount).toBe(3);
    expect(first.deviceGroups.pageInfo.hasNextPage).toBe(true);
    expect([...first.deviceGroups.edges, ...rest.deviceGroups.edges].map((edge) => edge.node.name).sort()).toEqual(['Everything', 'Rack 2', 'Rack A']);
    expect((await ok<Groups>(app, tenant.token, LIST, { type: 'STATIC' })).deviceGroups.edges.map((edge) => edge.node.name).sort()).toEqual(['Rack 2', 'Rack A']);

    // Delete: gone for reads and filters; a second delete is NotFound.
    await registerDevice(app, tenant.token, { deviceId: 'in-rack' });
    await addMembers(app, tenant.token, groupId, ['in-rack']);
    await expectResult(app, tenant.token, DELETE_GROUP, { groupId }, 'DeleteDeviceGroupPayload');
    expect((await ok<{ deviceGroup: unknown }>(app, tenant.token, `query($g: String!) { deviceGroup(groupId: $g) { groupId } }`, { g: groupId })).deviceGroup).toBeNull();
    expect((await app.gql(tenant.token, DEVICE_IDS, { filter: { groupId } })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect((await ok<{ deleteDeviceGroup: GroupResult }>(app, tenant.token, DELETE_GROUP, { input: { groupId } })).deleteDeviceGroup.__typename).toBe('NotFound');
  });

  test('bulk add and remove up to 1,000 IDs: idempotent, an outcome per ID in the order given; 1,001 is a typed error', async ({ tenant, otherTenant }) => {
    const mine = await seedDevicesDirectly(tenant.tenantId, 'bulk', 996);
    const [foreign] = await seedDevicesDirectly(otherTenant.tenantId, 'theirs', 1);
    await expectResult(app, tenant.token, `mutation($input: DecommissionDeviceInput!) { decommissionDevice(input: $input) { __typename } }`, { deviceId: mine[995] }, 'DecommissionDevicePayload');
    const groupId = await createStaticGroup(app, tenant.token, 'bulk');
    // 995 active devices, one decommissioned, one of another tenant, two unknown, one duplicate: 1,000 IDs.
    const ids = [...mine.slice(0, 500), foreign!, 'no-such-1', mine[995]!, ...mine.slice(500, 995), 'no-such-2', mine[0]!];
    expect(ids).toHaveLength(1_000);

    const added = await addMembers(app, tenant.token, groupId, ids);
    expect(added.results).toHaveLength(999); // duplicates count once
    expect(added.results.map((result) => result.deviceId)).toEqual([...new Set(ids)]);
    expect(tally(added.results)).toEqual({ ADDED: 995, NOT_FOUND: 4 });
    expect(added.results.filter((result) => result.outcome === 'NOT_FOUND').map((result) => result.deviceId)).toEqual([foreign, 'no-such-1', mine[995], 'no-such-2']);
    expect(added.group.memberCount).toBe(995);

    const again = await addMembers(app, tenant.token, groupId, ids);
    expect(tally(again.results)).toEqual({ ALREADY_MEMBER: 995, NOT_FOUND: 4 });
    expect(again.group.memberCount).toBe(995);

    const tooMany = await ok<{ addDevicesToGroup: GroupResult }>(app, tenant.token, ADD_MEMBERS, { input: { groupId, deviceIds: [...ids, 'one-more'] } });
    expect(tooMany.addDevicesToGroup).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'deviceIds'], code: 'TOO_BIG' }] });
    const none = await ok<{ removeDevicesFromGroup: GroupResult }>(app, tenant.token, REMOVE_MEMBERS, { input: { groupId, deviceIds: [] } });
    expect(none.removeDevicesFromGroup).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'deviceIds'], code: 'TOO_SMALL' }] });

    const removeIds = [...mine.slice(0, 500), 'no-such-1', foreign!];
    const removed = await expectResult<Outcomes>(app, tenant.token, REMOVE_MEMBERS, { groupId, deviceIds: removeIds }, 'RemoveDevicesFromGroupPayload');
    expect(tally(removed.results)).toEqual({ REMOVED: 500, NOT_FOUND: 2 });
    expect(removed.group.memberCount).toBe(495);
    const removedAgain = await expectResult<Outcomes>(app, tenant.token, REMOVE_MEMBERS, { groupId, deviceIds: removeIds }, 'RemoveDevicesFromGroupPayload');
    expect(tally(removedAgain.results)).toEqual({ NOT_MEMBER: 500, NOT_FOUND: 2 });

    const members = await groupMembers(app, tenant.token, groupId);
    expect(members.ids).toEqual(mine.slice(500, 995));
    expect(members.memberCount).toBe(495);
  });

  test('membership calls on a dynamic, unknown or foreign group are NotFound', async ({ tenant, otherTenant }) => {
    await registerDevices(app, tenant.token, ['m-1']);
    const dynamic = await createDynamicGroup(app, tenant.token, 'dyn', {});
    const foreign = await createStaticGroup(app, otherTenant.token, 'foreign');
    for (const groupId of [dynamic, 'no-such-group', foreign]) {
      for (const mutation of [ADD_MEMBERS, REMOVE_MEMBERS]) {
        const data = await ok<Record<string, GroupResult>>(app, tenant.token, mutation, { input: { groupId, deviceIds: ['m-1'] } });
        expect(Object.values(data)[0]!.__typename).toBe('NotFound');
      }
    }
  });
});

describe('Device.groups', () => {
  test('lists the static groups naming the device and the dynamic groups it matches now', async ({ tenant }) => {
    await registerDevice(app, tenant.token, { deviceId: 'dg-1', tags: [{ key: 'role', value: 'edge' }] });
    await registerDevice(app, tenant.token, { deviceId: 'dg-2' });
    const a = await createStaticGroup(app, tenant.token, 'A static');
    const b = await createStaticGroup(app, tenant.token, 'B static');
    await createStaticGroup(app, tenant.token, 'C static, empty');
    await createDynamicGroup(app, tenant.token, 'D edge', { tags: [{ key: 'role', value: 'edge' }] });
    await createDynamicGroup(app, tenant.token, 'E all dg', { deviceIdPrefix: 'dg-' });
    await createDynamicGroup(app, tenant.token, 'F core', { tags: [{ key: 'role', value: 'core' }] });
    await createDynamicGroup(app, tenant.token, 'G in A', { groupId: a });
    await addMembers(app, tenant.token, a, ['dg-1']);
    await addMembers(app, tenant.token, b, ['dg-1', 'dg-2']);

    type Page = { devices: { edges: Array<{ node: { deviceId: string; groups: Array<{ name: string; groupType: string }> } }> } };
    const PAGE = `{ devices(filter: { deviceIdPrefix: "dg-" }) { edges { node { deviceId groups { name groupType } } } } }`;
    const groupsOf = async () =>
      Object.fromEntries((await ok<Page>(app, tenant.token, PAGE)).devices.edges.map(({ node }) => [node.deviceId, node.groups.map((group) => group.name)]));
    expect(await groupsOf()).toEqual({
      'dg-1': ['A static', 'B static', 'D edge', 'E all dg', 'G in A'],
      'dg-2': ['B static', 'E all dg'],
    });
    const one = await ok<{ device: { groups: Array<{ name: string; groupType: string }> } }>(app, tenant.token, `{ device(deviceId: "dg-2") { groups { name groupType } } }`);
    expect(one.device.groups).toEqual([{ name: 'B static', groupType: 'STATIC' }, { name: 'E all dg', groupType: 'DYNAMIC' }]);

    // The next read after a tag change sees the dynamic groups move.
    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'dg-1', tags: [{ key: 'role', value: 'core' }] }, 'UpdateDevicePayload');
    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'dg-2', tags: [{ key: 'role', value: 'edge' }] }, 'UpdateDevicePayload');
    expect(await groupsOf()).toEqual({
      'dg-1': ['A static', 'B static', 'E all dg', 'F core', 'G in A'],
      'dg-2': ['B static', 'D edge', 'E all dg'],
    });
  });
});
