import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { addMembers, closeOwnerSql, createDynamicGroup, createStaticGroup, seedDevicesDirectly } from './support.js';

/**
 * Every SQL statement Prisma sends while one read runs: a first page of 50 members costs the same
 * few statements for a group of 60 as for a group of 2,000 (the group's condition stays in SQL;
 * no read loads all members), and the page's key query is bounded by LIMIT.
 */
let app: TestApp;
let statements: string[] = [];
beforeAll(async () => {
  app = await startTestApp({}, { autoStartWorkers: false, onQuery: (sql) => statements.push(sql) });
});
afterAll(async () => {
  await app?.stop();
  await closeOwnerSql();
});

const GROUP_PAGE = /* GraphQL */ `
  query($groupId: String!) {
    deviceGroup(groupId: $groupId) {
      memberCount
      members(first: 50) { totalCount pageInfo { hasNextPage } edges { node { deviceId name status tags { key value } } } }
    }
  }`;
const DEVICES_PAGE = /* GraphQL */ `
  query($groupId: String!) { devices(first: 50, filter: { groupId: $groupId }) { totalCount edges { node { deviceId status tags { key value } } } } }`;
const PREVIEW_PAGE = /* GraphQL */ `
  query($filter: DeviceFilter!) { previewDynamicGroup(filter: $filter, first: 50) { memberCount members { deviceId status tags { key value } } } }`;

/** The statements of one operation (transaction control left out), after the app's reactions are idle. */
async function statementsFor(token: string, query: string, variables: Record<string, unknown>): Promise<string[]> {
  await app.pulse.app.reactions.idle();
  statements = [];
  const result = await app.gql<Record<string, unknown>>(token, query, variables);
  expect(result.errors).toBeUndefined();
  return statements.filter((sql) => !/^\s*(BEGIN|COMMIT|ROLLBACK)/i.test(sql));
}

describe('statement count of a group page', () => {
  test('a first page of 50 of a 2,000-member group costs the same few statements as of a 60-member group', async ({ tenant, otherTenant }) => {
    const tag = { key: 'fleet', value: 'big' };
    const big = await seedDevicesDirectly(tenant.tenantId, 'big', 2_000, tag);
    const small = await seedDevicesDirectly(otherTenant.tenantId, 'small', 60, tag);
    const filter = { tags: [tag], status: ['ONLINE'] };
    const bigDynamic = await createDynamicGroup(app, tenant.token, 'big', filter);
    const smallDynamic = await createDynamicGroup(app, otherTenant.token, 'small', filter);
    const bigStatic = await createStaticGroup(app, tenant.token, 'big static');
    const smallStatic = await createStaticGroup(app, otherTenant.token, 'small static');
    await addMembers(app, tenant.token, bigStatic, big.slice(0, 1_000));
    await addMembers(app, tenant.token, bigStatic, big.slice(1_000));
    await addMembers(app, otherTenant.token, smallStatic, small);

    for (const [bigGroup, smallGroup] of [[bigDynamic, smallDynamic], [bigStatic, smallStatic]] as const) {
      const large = await statementsFor(tenant.token, GROUP_PAGE, { groupId: bigGroup });
      const little = await statementsFor(otherTenant.token, GROUP_PAGE, { groupId: smallGroup });
      expect(large.length).toBe(little.length);
      // set_config; the group's row; the page's keys (bounded); the page's rows with state and
      // tags (one joined statement); totalCount; memberCount.
      expect(large).toHaveLength(6);
      const keys = large.filter((sql) => /SELECT d\.tenant_id, d\.device_id FROM device_registry d/.test(sql));
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/LIMIT/);
    }

    // devices(filter: { groupId }) is a compiled read (graphql/compiled-reads.ts): set_config, the
    // group's row, then one statement for the page and its count. previewDynamicGroup: set_config,
    // count, keys, rows.
    for (const [query, bigVariables, smallVariables, count] of [
      [DEVICES_PAGE, { groupId: bigDynamic }, { groupId: smallDynamic }, 3],
      [PREVIEW_PAGE, { filter }, { filter }, 4],
    ] as const) {
      const large = await statementsFor(tenant.token, query, bigVariables);
      const little = await statementsFor(otherTenant.token, query, smallVariables);
      expect(large.length).toBe(little.length);
      expect(large).toHaveLength(count);
    }

    // And the answers are the right ones.
    const page = await app.gql<{ deviceGroup: { memberCount: number; members: { totalCount: number; pageInfo: { hasNextPage: boolean }; edges: Array<{ node: { deviceId: string; status: string; tags: unknown[] } }> } } }>(
      tenant.token, GROUP_PAGE, { groupId: bigDynamic },
    );
    expect(page.data?.deviceGroup).toMatchObject({ memberCount: 2_000, members: { totalCount: 2_000, pageInfo: { hasNextPage: true } } });
    expect(page.data!.deviceGroup.members.edges.map((edge) => edge.node.deviceId)).toEqual(big.slice(0, 50));
    expect(page.data!.deviceGroup.members.edges[0]!.node).toMatchObject({ status: 'ONLINE', tags: [tag] });
  }, 120_000);
});
