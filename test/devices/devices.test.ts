import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { DEVICE, DEVICES, REGISTER_DEVICE } from '../harness/operations.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('registerDevice', () => {
  test('registers a device with tags and returns credentials once', async ({ tenant }) => {
    const result = await app.gql(tenant.token, REGISTER_DEVICE, {
      input: { deviceId: 'gw-1', name: 'Gateway 1', tags: [{ key: 'env', value: 'prod' }, { key: 'floor', value: '2' }] },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.registerDevice).toMatchObject({
      __typename: 'RegisterDevicePayload',
      device: { deviceId: 'gw-1', name: 'Gateway 1', status: 'OFFLINE', tags: [{ key: 'env', value: 'prod' }, { key: 'floor', value: '2' }] },
      credentials: { topicPrefix: `pulse/${tenant.tenantId}/gw-1/` },
    });
    const registered = result.data?.registerDevice;
    if (registered?.__typename !== 'RegisterDevicePayload') throw new Error(`not registered: ${JSON.stringify(registered)}`);
    expect(registered.credentials.password.length).toBeGreaterThanOrEqual(32);

    const read = await app.gql<{ device: { deviceId: string; tenantId: string } }>(tenant.token, DEVICE, { deviceId: 'gw-1' });
    expect(read.data?.device).toMatchObject({ deviceId: 'gw-1', tenantId: tenant.tenantId });
  });

  test('a second registration of the same ID is AlreadyExists and changes nothing', async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'dup', name: 'First' } });
    const again = await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'dup', name: 'Second' } });
    expect(again.data?.registerDevice).toMatchObject({ __typename: 'AlreadyExists', code: 'ALREADY_EXISTS' });
    const read = await app.gql<{ device: { name: string } }>(tenant.token, DEVICE, { deviceId: 'dup' });
    expect(read.data?.device.name).toBe('First');
  });

  test.for([
    [{ deviceId: 'has/slash', name: 'x' }, ['input', 'deviceId']],
    [{ deviceId: '', name: 'x' }, ['input', 'deviceId']],
    [{ deviceId: 'a'.repeat(129), name: 'x' }, ['input', 'deviceId']],
    [{ deviceId: 'ok', name: '   ' }, ['input', 'name']],
    [{ deviceId: 'ok', name: 'n'.repeat(201) }, ['input', 'name']],
    [{ deviceId: 'ok', name: 'x', tags: [{ key: '1bad', value: 'v' }] }, ['input', 'tags', '0', 'key']],
    [{ deviceId: 'ok', name: 'x', tags: [{ key: 'k', value: 'v'.repeat(257) }] }, ['input', 'tags', '0', 'value']],
    [{ deviceId: 'ok', name: 'x', tags: [{ key: 'k', value: 'a' }, { key: 'k', value: 'b' }] }, ['input', 'tags', '1', 'key']],
  ] as const)('rejects %j with a ValidationError at the offending path', async ([input, path], { tenant }) => {
    const result = await app.gql(tenant.token, REGISTER_DEVICE, { input });
    expect(result.errors).toBeUndefined();
    const payload = result.data?.registerDevice as { __typename: string; issues: Array<{ path: string[]; message: string }> };
    expect(payload.__typename).toBe('ValidationError');
    expect(payload.issues.map((issue) => issue.path)).toContainEqual(path);
    expect(payload.issues.every((issue) => issue.message.length > 0)).toBe(true);
  });

  test('NUL characters (unstorable in PostgreSQL) are a ValidationError, not a database error', async ({ tenant }) => {
    const result = await app.gql(tenant.token, REGISTER_DEVICE, {
      input: { deviceId: 'nul', name: 'a\u0000b', metadata: { note: 'x\u0000' } },
    });
    const payload = result.data?.registerDevice;
    if (payload?.__typename !== 'ValidationError') throw new Error(`expected a ValidationError, got ${JSON.stringify(payload)}`);
    expect(payload.issues.map(({ path, code }) => ({ path, code }))).toEqual(
      expect.arrayContaining([
        { path: ['input', 'name'], code: 'NUL_CHARACTER' },
        { path: ['input', 'metadata', 'note'], code: 'NUL_CHARACTER' },
      ]),
    );
  });

  test('an unknown site is NotFound and nothing is stored', async ({ tenant }) => {
    const result = await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'nosite', name: 'x', siteId: 'missing' } });
    expect(result.data?.registerDevice).toMatchObject({ __typename: 'NotFound', code: 'NOT_FOUND' });
    const read = await app.gql<{ device: null }>(tenant.token, DEVICE, { deviceId: 'nosite' });
    expect(read.data?.device).toBeNull();
  });

  test('a wrongly typed variable is a GraphQL error naming the variable', async ({ tenant }) => {
    const result = await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 42, name: 'x' } });
    expect(result.errors?.[0]?.message).toMatch(/\$input/);
    expect(JSON.stringify(result.errors)).not.toMatch(/at .*\.js|SELECT|INSERT/);
  });
});

describe('updateDevice and decommissionDevice', () => {
  const UPDATE = `mutation($input: UpdateDeviceInput!) { updateDevice(input: $input) { __typename
    ... on UpdateDevicePayload { device { name tags { key value } site { siteId } } } ... on Error { code } } }`;
  const DECOMMISSION = `mutation($id: String!) { decommissionDevice(input: { deviceId: $id }) { __typename
    ... on DecommissionDevicePayload { device { deviceId decommissionedAt } } ... on Error { code } } }`;
  const CREATE_SITE = `mutation($input: CreateSiteInput!) { createSite(input: $input) { __typename ... on CreateSitePayload { site { siteId } } ... on Error { code } } }`;

  test('updates name, site and replaces tags; clears the site with null', async ({ tenant }) => {
    await app.gql(tenant.token, CREATE_SITE, { input: { siteId: 'hq', name: 'Head office' } });
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'u1', name: 'Old', tags: [{ key: 'a', value: '1' }] } });
    const updated = await app.gql(tenant.token, UPDATE, { input: { deviceId: 'u1', name: 'New', siteId: 'hq', tags: [{ key: 'b', value: '2' }] } });
    expect(updated.data?.['updateDevice']).toEqual({ __typename: 'UpdateDevicePayload', device: { name: 'New', tags: [{ key: 'b', value: '2' }], site: { siteId: 'hq' } } });
    const cleared = await app.gql(tenant.token, UPDATE, { input: { deviceId: 'u1', siteId: null } });
    expect(cleared.data?.['updateDevice']).toMatchObject({ device: { name: 'New', site: null, tags: [{ key: 'b', value: '2' }] } });
  });

  test('updating an unknown device is NotFound', async ({ tenant }) => {
    const result = await app.gql(tenant.token, UPDATE, { input: { deviceId: 'ghost', name: 'x' } });
    expect(result.data?.['updateDevice']).toEqual({ __typename: 'NotFound', code: 'NOT_FOUND' });
  });

  test('decommissioning hides the device from lists, keeps it readable, and refuses a second time', async ({ tenant }) => {
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'old', name: 'Old' } });
    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'keep', name: 'Keep' } });
    const result = await app.gql(tenant.token, DECOMMISSION, { id: 'old' });
    expect(result.data?.['decommissionDevice']).toMatchObject({ __typename: 'DecommissionDevicePayload', device: { deviceId: 'old' } });
    const list = await app.gql<{ devices: { edges: Array<{ node: { deviceId: string } }> } }>(tenant.token, DEVICES, {});
    expect(list.data?.devices.edges.map((edge) => edge.node.deviceId)).toEqual(['keep']);
    const all = await app.gql<{ devices: { totalCount: number } }>(tenant.token, DEVICES, { filter: { includeDecommissioned: true } });
    expect(all.data?.devices.totalCount).toBe(2);
    const again = await app.gql(tenant.token, DECOMMISSION, { id: 'old' });
    expect(again.data?.['decommissionDevice']).toEqual({ __typename: 'NotFound', code: 'NOT_FOUND' });
  });
});

describe('devices connection', () => {
  test('pages with cursors in deviceId order and filters by tag, search and status', async ({ tenant }) => {
    for (let index = 0; index < 7; index += 1) {
      await app.gql(tenant.token, REGISTER_DEVICE, {
        input: { deviceId: `dev-${index}`, name: `Sensor ${index}`, tags: [{ key: 'parity', value: index % 2 === 0 ? 'even' : 'odd' }] },
      });
    }
    type Page = { devices: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: Array<{ node: { deviceId: string } }> } };
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await app.gql<Page>(tenant.token, DEVICES, { first: 3, after });
      seen.push(...(page.data?.devices.edges.map((edge) => edge.node.deviceId) ?? []));
      if (!page.data?.devices.pageInfo.hasNextPage) break;
      after = page.data.devices.pageInfo.endCursor;
    }
    expect(seen).toEqual(['dev-0', 'dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-5', 'dev-6']);

    const odd = await app.gql<Page>(tenant.token, DEVICES, { filter: { tags: [{ key: 'parity', value: 'odd' }] } });
    expect(odd.data?.devices.edges.map((edge) => edge.node.deviceId)).toEqual(['dev-1', 'dev-3', 'dev-5']);
    expect(odd.data?.devices.totalCount).toBe(3);
    const search = await app.gql<Page>(tenant.token, DEVICES, { filter: { search: 'SENSOR 4' } });
    expect(search.data?.devices.edges.map((edge) => edge.node.deviceId)).toEqual(['dev-4']);
    const online = await app.gql<Page>(tenant.token, DEVICES, { filter: { status: ['ONLINE'] } });
    expect(online.data?.devices.totalCount).toBe(0);
    const offline = await app.gql<Page>(tenant.token, DEVICES, { filter: { status: ['OFFLINE'] } });
    expect(offline.data?.devices.totalCount).toBe(7);
  });

  test('an invalid filter is a clear error with its path, not a crash', async ({ tenant }) => {
    const result = await app.gql(tenant.token, DEVICES, { filter: { siteId: 'bad/site' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(result.errors?.[0]?.message).toMatch(/filter\.siteId/);
  });
});
