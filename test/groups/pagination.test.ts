import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  addMembers,
  closeOwnerSql,
  createDynamicGroup,
  createStaticGroup,
  DEVICE_IDS,
  expectResult,
  GROUP_MEMBERS,
  groupMembers,
  ok,
  REMOVE_MEMBERS,
  registerDevice,
  seedDevicesDirectly,
  UPDATE_DEVICE,
} from './support.js';

/**
 * Paging a group while its members change: cursors are positions in deviceId order, so a page
 * after a cursor starts strictly after it whatever joined or left in between. No device is
 * listed twice, and no device that stayed a member throughout is skipped.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
  await closeOwnerSql();
});

type Page = { ids: string[]; endCursor: string | null; hasNextPage: boolean };
type Connection = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { deviceId: string } }> };
const pageOf = (connection: Connection): Page => ({
  ids: connection.edges.map((edge) => edge.node.deviceId),
  endCursor: connection.pageInfo.endCursor,
  hasNextPage: connection.pageInfo.hasNextPage,
});

/** Pages through with `first: 7`, calling `between(pageNumber, seenSoFar)` after each page. */
async function pageThrough(fetch: (after: string | null) => Promise<Page>, between: (page: number, seen: string[]) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const current = await fetch(after);
    seen.push(...current.ids);
    if (!current.hasNextPage) return seen;
    after = current.endCursor;
    await between(page, seen);
  }
  throw new Error('paging did not end');
}

describe('pagination under concurrent changes', () => {
  test('a dynamic group paged while devices join and leave it, through members and devices(filter: { groupId })', async ({ tenant }) => {
    const tag = { key: 'fleet', value: 'paged' };
    // p-00001 … p-00030, every one tagged (a member).
    const initial = await seedDevicesDirectly(tenant.tenantId, 'p', 30, tag);
    const groupId = await createDynamicGroup(app, tenant.token, 'paged', { tags: [tag] });
    const viaMembers = async (after: string | null) =>
      pageOf((await ok<{ deviceGroup: { members: Connection } }>(app, tenant.token, GROUP_MEMBERS, { groupId, first: 7, after })).deviceGroup.members);
    const viaDevices = async (after: string | null) =>
      pageOf((await ok<{ devices: Connection }>(app, tenant.token, DEVICE_IDS, { filter: { groupId }, first: 7, after })).devices);

    for (const [round, fetch] of [viaMembers, viaDevices].entries()) {
      const left = new Set<string>();
      const joined = new Set<string>();
      const seen = await pageThrough(fetch, async (page, soFar) => {
        const last = soFar.at(-1)!;
        // One device behind the cursor (every other page the cursor's own device) and one ahead of
        // it leave (untagged, decommissioned) …
        const behind = page % 2 === 0 ? last : initial.find((id) => id < last && !left.has(id))!;
        const ahead = [...initial].reverse().find((id) => id > last && !left.has(id))!;
        await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: behind, tags: [] }, 'UpdateDevicePayload');
        await expectResult(app, tenant.token, `mutation($input: DecommissionDeviceInput!) { decommissionDevice(input: $input) { __typename } }`, { deviceId: ahead }, 'DecommissionDevicePayload');
        left.add(behind).add(ahead);
        // … and two join: one sorting before everything, one after the cursor.
        for (const deviceId of [`a-${round}-${page}`, `${last}-${round}-late`]) {
          await registerDevice(app, tenant.token, { deviceId, tags: [tag] });
          joined.add(deviceId);
        }
      });
      expect(new Set(seen).size, `no duplicates: ${seen.join(' ')}`).toBe(seen.length);
      const stayed = initial.filter((id) => !left.has(id));
      expect(stayed.filter((id) => !seen.includes(id)), 'skipped devices that stayed members').toEqual([]);
      expect([...seen].sort(), 'deviceId order').toEqual(seen);
      // Devices that joined ahead of the cursor are on a later page; those behind it are not.
      for (const id of joined) expect(seen.includes(id), id).toBe(id.endsWith('-late'));
      // Put the fleet back for the next read path: the ones that left return, the new ones stay.
      for (const id of left) {
        if (!initial.includes(id)) continue;
        const decommissioned = (await ok<{ device: { decommissionedAt: string | null } }>(app, tenant.token, `query($d: String!) { device(deviceId: $d) { decommissionedAt } }`, { d: id })).device.decommissionedAt;
        if (decommissioned) initial.splice(initial.indexOf(id), 1);
        else await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: id, tags: [tag] }, 'UpdateDevicePayload');
      }
    }
  });

  test('a static group paged while members are added and removed', async ({ tenant }) => {
    const ids = await seedDevicesDirectly(tenant.tenantId, 's', 40);
    const groupId = await createStaticGroup(app, tenant.token, 'paged');
    await addMembers(app, tenant.token, groupId, ids.filter((_, index) => index % 2 === 0));
    const members = new Set(ids.filter((_, index) => index % 2 === 0));
    const removed = new Set<string>();
    const seen = await pageThrough(
      async (after) => pageOf((await ok<{ deviceGroup: { members: Connection } }>(app, tenant.token, GROUP_MEMBERS, { groupId, first: 7, after })).deviceGroup.members),
      async (_page, soFar) => {
        const last = soFar.at(-1)!;
        const gone = [...members].filter((id) => !removed.has(id));
        const toRemove = [gone.find((id) => id < last)!, gone.reverse().find((id) => id > last)!].filter(Boolean);
        await expectResult(app, tenant.token, REMOVE_MEMBERS, { groupId, deviceIds: toRemove }, 'RemoveDevicesFromGroupPayload');
        for (const id of toRemove) removed.add(id);
        // Odd-numbered devices join: one behind the cursor, one ahead.
        const outside = ids.filter((id) => !members.has(id));
        const toAdd = [outside.find((id) => id < last), outside.reverse().find((id) => id > last)].filter((id): id is string => id !== undefined);
        await addMembers(app, tenant.token, groupId, toAdd);
        for (const id of toAdd) members.add(id);
      },
    );
    expect(new Set(seen).size).toBe(seen.length);
    const stayed = ids.filter((id, index) => index % 2 === 0 && !removed.has(id));
    expect(stayed.filter((id) => !seen.includes(id))).toEqual([]);
    expect([...seen].sort()).toEqual(seen);

    // Backwards: the last page, then the one before it.
    type Back = { deviceGroup: { members: { pageInfo: { hasPreviousPage: boolean; startCursor: string }; edges: Array<{ node: { deviceId: string } }> } } };
    const BACK = `query($groupId: String!, $before: String) { deviceGroup(groupId: $groupId) { members(last: 3, before: $before) { pageInfo { hasPreviousPage startCursor } edges { node { deviceId } } } } }`;
    const current = (await groupMembers(app, tenant.token, groupId)).ids;
    const last = (await ok<Back>(app, tenant.token, BACK, { groupId })).deviceGroup.members;
    expect(last.edges.map((edge) => edge.node.deviceId)).toEqual(current.slice(-3));
    expect(last.pageInfo.hasPreviousPage).toBe(true);
    const before = (await ok<Back>(app, tenant.token, BACK, { groupId, before: last.pageInfo.startCursor })).deviceGroup.members;
    expect(before.edges.map((edge) => edge.node.deviceId)).toEqual(current.slice(-6, -3));
  });
});
