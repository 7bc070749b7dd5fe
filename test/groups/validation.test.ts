import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, tokenFor, type TestApp } from '../harness/app.js';
import { uniqueName } from '../harness/postgres.js';
import {
  CREATE_DYNAMIC,
  createDynamicGroup,
  createStaticGroup,
  DEVICE_IDS,
  FLEET,
  ok,
  PREVIEW,
  queryIssues,
  registerDevices,
  UPDATE_GROUP,
  type Filter,
  type GroupResult,
  type Issue,
} from './support.js';

/** Invalid filters are refused with typed errors (issue codes and paths); nothing is stored. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

const deep = (levels: number): Filter => (levels === 0 ? { siteId: 'x' } : { not: deep(levels - 1) });
/** 20 branches × 4 terms: within the branch limit, over the 64-term limit. */
const tooMany: Filter = { and: Array.from({ length: 20 }, (_, i) => ({ siteId: `s${i}`, search: 'a', namePrefix: 'b', deviceIdPrefix: 'c' })) };

/** Each invalid filter, the issue it must raise (path below the filter, code). */
const INVALID: Array<[string, Filter, { path: string[]; code: string }]> = [
  ['empty or', { or: [] }, { path: ['or'], code: 'TOO_SMALL' }],
  ['empty and (nested)', { not: { and: [] } }, { path: ['not', 'and'], code: 'TOO_SMALL' }],
  ['too deep', deep(6), { path: ['not', 'not', 'not', 'not', 'not'], code: 'TOO_DEEP' }],
  ['too many terms', tooMany, { path: ['and', '16'], code: 'TOO_BIG' }],
  ['too many branches', { or: Array.from({ length: 21 }, () => ({ siteId: 'x' })) }, { path: ['or'], code: 'TOO_BIG' }],
  ['bad twin path', { reported: [{ path: 'a..b', operator: 'EXISTS' }] }, { path: ['reported', '0', 'path'], code: 'INVALID_VALUE' }],
  ['non-canonical twin path', { desired: [{ path: '["a"]', operator: 'EXISTS' }] }, { path: ['desired', '0', 'path'], code: 'INVALID_VALUE' }],
  ['path too long', { reported: [{ path: Array.from({ length: 11 }, () => 'k').join('.'), operator: 'EXISTS' }] }, { path: ['reported', '0', 'path'], code: 'INVALID_VALUE' }],
  ['GT with a boolean', { reported: [{ path: 'temp', operator: 'GT', value: true }] }, { path: ['reported', '0', 'value'], code: 'INVALID_VALUE' }],
  ['LTE with an object', { desired: [{ path: 'temp', operator: 'LTE', value: { a: 1 } }] }, { path: ['desired', '0', 'value'], code: 'INVALID_VALUE' }],
  ['EQ without a value', { reported: [{ path: 'temp', operator: 'EQ' }] }, { path: ['reported', '0', 'value'], code: 'INVALID_VALUE' }],
  ['bad tag key', { tags: [{ key: '1bad key' }] }, { path: ['tags', '0', 'key'], code: 'INVALID_FORMAT' }],
  ['empty status list', { status: [] }, { path: ['status'], code: 'TOO_SMALL' }],
  ['glob of wildcards only', { deviceIdPattern: '**?' }, { path: ['deviceIdPattern'], code: 'INVALID_VALUE' }],
  ['bad group id', { groupId: 'no/slash' }, { path: ['groupId'], code: 'INVALID_FORMAT' }],
];

const issueOf = (issues: Issue[] | undefined) => issues?.map(({ path, code }) => ({ path, code }));

describe('invalid filters', () => {
  test.each(INVALID)('%s: devices(filter), previewDynamicGroup, fleetSummary and createDynamicDeviceGroup refuse it', async (_name, filter, issue) => {
    // test.each gets no fixtures: a tenant of its own, so the group count below is this case's.
    const tenant = { token: await tokenFor(uniqueName('t').replace(/_/g, '-')) };
    // Queries: a GraphQL error with code VALIDATION_FAILED and the issues, paths under `filter`.
    expect(issueOf(await queryIssues(app, tenant.token, DEVICE_IDS, { filter }))).toContainEqual({ path: ['filter', ...issue.path], code: issue.code });
    expect(issueOf(await queryIssues(app, tenant.token, PREVIEW, { filter }))).toContainEqual({ path: ['filter', ...issue.path], code: issue.code });
    expect(issueOf(await queryIssues(app, tenant.token, FLEET, { filter, groupBy: ['STATUS'] }))).toContainEqual({ path: ['filter', ...issue.path], code: issue.code });
    // The mutation: a typed ValidationError result, paths under input.queryFilter; nothing stored.
    const created = await ok<{ createDynamicDeviceGroup: GroupResult }>(app, tenant.token, CREATE_DYNAMIC, { input: { name: 'bad', queryFilter: filter } });
    expect(created.createDynamicDeviceGroup.__typename).toBe('ValidationError');
    expect(issueOf(created.createDynamicDeviceGroup.issues)).toContainEqual({ path: ['input', 'queryFilter', ...issue.path], code: issue.code });
    const groups = await ok<{ deviceGroups: { totalCount: number } }>(app, tenant.token, `{ deviceGroups { totalCount } }`);
    expect(groups.deviceGroups.totalCount).toBe(0);
  });

  test('unknown fields and wrong types are refused by the GraphQL input type', async ({ tenant }) => {
    for (const filter of [{ colour: 'red' }, { status: ['BOGUS'] }, { overDataLimit: 'yes' }, { reported: [{ path: 'a', operator: 'ABOUT' }] }]) {
      const result = await app.gql(tenant.token, DEVICE_IDS, { filter });
      expect(result.data, JSON.stringify(filter)).toBeUndefined();
      expect(result.errors?.[0]?.message, JSON.stringify(filter)).toMatch(/filter/);
    }
  });

  test('a NUL character anywhere in a filter is refused before it reaches SQL', async ({ tenant }) => {
    // The platform checks every argument for NUL (a GraphQL error with the issue, whatever the field).
    for (const filter of [{ search: 'a\u0000b' }, { or: [{ siteId: 'x' }, { reported: [{ path: 'a', operator: 'EQ', value: 'x\u0000' }] }] }]) {
      const result = await app.gql(tenant.token, DEVICE_IDS, { filter });
      expect(result.data?.['devices'] ?? null).toBeNull();
      expect(JSON.stringify(result.errors)).toContain('NUL_CHARACTER');
    }
    const created = await app.gql<{ createDynamicDeviceGroup: GroupResult }>(tenant.token, CREATE_DYNAMIC, { input: { name: 'nul', queryFilter: { search: '\u0000' } } });
    expect(JSON.stringify(created)).toContain('NUL_CHARACTER');
    expect((await ok<{ deviceGroups: { totalCount: number } }>(app, tenant.token, `{ deviceGroups { totalCount } }`)).deviceGroups.totalCount).toBe(0);
  });

  test('list options are top-level only and never part of a stored filter', async ({ tenant }) => {
    const nested = await queryIssues(app, tenant.token, DEVICE_IDS, { filter: { or: [{ includeDecommissioned: true }, { siteId: 'x' }] } });
    expect(issueOf(nested)).toContainEqual({ path: ['filter', 'or', '0'], code: 'UNRECOGNIZED_KEY' });
    const stored = await ok<{ createDynamicDeviceGroup: GroupResult }>(app, tenant.token, CREATE_DYNAMIC, { input: { name: 'x', queryFilter: { includeDecommissioned: true } } });
    expect(stored.createDynamicDeviceGroup).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'queryFilter'], code: 'UNRECOGNIZED_KEY' }] });
  });

  test('an unknown or foreign group is NotFound', async ({ tenant, otherTenant }) => {
    const foreign = await createStaticGroup(app, otherTenant.token, 'theirs');
    for (const groupId of ['no-such-group', foreign]) {
      const created = await ok<{ createDynamicDeviceGroup: GroupResult }>(app, tenant.token, CREATE_DYNAMIC, { input: { name: `g-${groupId}`, queryFilter: { groupId } } });
      expect(created.createDynamicDeviceGroup).toMatchObject({ __typename: 'NotFound', code: 'NOT_FOUND' });
      const listed = await app.gql(tenant.token, DEVICE_IDS, { filter: { or: [{ siteId: 'x' }, { groupId }] } });
      expect(listed.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
  });

  test('a dynamic group whose filter refers back to itself, directly or through another group, is refused on update', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['c-1', 'c-2']);
    const a = await createDynamicGroup(app, tenant.token, 'a', { deviceIdPrefix: 'c-' });
    const b = await createDynamicGroup(app, tenant.token, 'b', { groupId: a, not: { deviceIdPattern: '*2' } });
    for (const [groupId, queryFilter] of [
      [a, { groupId: a }],
      [a, { or: [{ siteId: 'x' }, { not: { groupId: a } }] }],
      [a, { groupId: b }],
    ] as const) {
      const updated = await ok<{ updateDeviceGroup: GroupResult }>(app, tenant.token, UPDATE_GROUP, { input: { groupId, queryFilter } });
      expect(updated.updateDeviceGroup.__typename, JSON.stringify(queryFilter)).toBe('ValidationError');
      expect(updated.updateDeviceGroup.issues?.[0]?.path).toContain('groupId');
    }
    // Nothing changed: both filters still work as stored.
    const members = await ok<{ devices: { edges: Array<{ node: { deviceId: string } }> } }>(app, tenant.token, DEVICE_IDS, { filter: { groupId: b } });
    expect(members.devices.edges.map((edge) => edge.node.deviceId)).toEqual(['c-1']);
    // A filter on a static group is not a dynamic group's to change.
    const staticId = await createStaticGroup(app, tenant.token, 'static');
    const onStatic = await ok<{ updateDeviceGroup: GroupResult }>(app, tenant.token, UPDATE_GROUP, { input: { groupId: staticId, queryFilter: { siteId: 'x' } } });
    expect(onStatic.updateDeviceGroup.__typename).toBe('NotFound');
  });

  test('fleetSummary refuses bad groupBy lists', async ({ tenant }) => {
    expect(issueOf(await queryIssues(app, tenant.token, FLEET, { groupBy: [] }))).toEqual([{ path: ['groupBy'], code: 'INVALID_VALUE' }]);
    expect(issueOf(await queryIssues(app, tenant.token, FLEET, { groupBy: ['SITE', 'SITE'] }))).toEqual([{ path: ['groupBy'], code: 'INVALID_VALUE' }]);
    expect(issueOf(await queryIssues(app, tenant.token, FLEET, { groupBy: ['TAG'] }))).toEqual([{ path: ['tagKey'], code: 'INVALID_VALUE' }]);
  });
});
