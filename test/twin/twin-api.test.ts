import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { readHistory, readTwin, registerDevice, TWIN_AT, writeDesired } from './helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('reading a twin', () => {
  test('a new device has empty documents at version 0, in sync', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'fresh');
    expect(await readTwin(app, tenant.token, 'fresh')).toEqual({
      desired: {},
      reported: {},
      desiredVersion: 0,
      reportedVersion: 0,
      etag: '"0"',
      syncStatus: 'IN_SYNC',
      pendingSince: null,
      desiredUpdatedAt: null,
      reportedUpdatedAt: null,
      metadata: { desired: {}, reported: {} },
      delta: { added: [], removed: [], changed: [], unchanged: [] },
      lastConvergence: null,
    });
  });
});

describe('MERGE and REPLACE', () => {
  test('MERGE follows RFC 7396: objects merge, null deletes, arrays replace; metadata per key', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'm1');
    const first = await writeDesired(app, tenant.token, { deviceId: 'm1', desired: { a: 1, net: { apn: 'x', mtu: 1500 }, list: [1, 2] } });
    expect(first).toMatchObject({ __typename: 'UpdateDeviceTwinDesiredPayload', desiredVersion: 1, etag: '"1"', autoMerged: false, basedOnVersion: 0 });
    const second = await writeDesired(app, tenant.token, { deviceId: 'm1', desired: { net: { mtu: null, dns: '1.1.1.1' }, list: [3], b: true } });
    expect(second).toMatchObject({ desiredVersion: 2, twin: { desired: { a: 1, net: { apn: 'x', dns: '1.1.1.1' }, list: [3], b: true } } });

    const twin = (await readTwin(app, tenant.token, 'm1'))!;
    expect(twin.desiredVersion).toBe(2);
    const stamp = (node: unknown) => (node as { $lastUpdated: string }).$lastUpdated;
    const meta = twin.metadata.desired as Record<string, Record<string, unknown>>;
    expect(Object.keys(meta).sort()).toEqual(['a', 'b', 'list', 'net']);
    expect(Object.keys(meta['net']!).sort()).toEqual(['apn', 'dns']);
    // `a` was untouched by the second write, so it keeps the first write's time.
    expect(Date.parse(stamp(meta['a']))).toBeLessThanOrEqual(Date.parse(stamp(meta['b'])));
    expect(stamp(meta['b'])).toBe(new Date(twin.desiredUpdatedAt!).toISOString());
  });

  test('"__proto__" is refused as a key, as everywhere (FORBIDDEN_KEY): nothing is stored, no prototype is touched', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'proto');
    const desired = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    const result = await writeDesired(app, tenant.token, { deviceId: 'proto', desired });
    expect(result).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'desired', '__proto__'], code: 'FORBIDDEN_KEY' }] });
    const twin = (await readTwin(app, tenant.token, 'proto'))!;
    expect(twin.desired).toEqual({});
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  test('REPLACE stores the document as given and history records the patch it amounts to', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'r1');
    await writeDesired(app, tenant.token, { deviceId: 'r1', desired: { a: 1, b: { c: 2 } } });
    const replaced = await writeDesired(app, tenant.token, { deviceId: 'r1', desired: { b: { d: 3 } }, mode: 'REPLACE' });
    expect(replaced).toMatchObject({ desiredVersion: 2, twin: { desired: { b: { d: 3 } } } });
    const history = await readHistory(app, tenant.token, { deviceId: 'r1' });
    expect(history.edges[0]!.node).toMatchObject({ version: 2, mode: 'REPLACE', patch: { a: null, b: { c: null, d: 3 } }, document: { b: { d: 3 } } });
  });
});

describe('versioned writes', () => {
  test('expectedVersion or ifMatch at the current version writes once', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'v1');
    expect(await writeDesired(app, tenant.token, { deviceId: 'v1', desired: { a: 1 }, expectedVersion: 0 })).toMatchObject({ desiredVersion: 1, autoMerged: false });
    expect(await writeDesired(app, tenant.token, { deviceId: 'v1', desired: { a: 2 }, ifMatch: '"1"' })).toMatchObject({ desiredVersion: 2, basedOnVersion: 1 });
    expect(await writeDesired(app, tenant.token, { deviceId: 'v1', desired: { a: 3 }, ifMatch: '*' })).toMatchObject({ desiredVersion: 3 });
  });

  test('a stale write to a path changed since is a TwinVersionConflict and writes nothing', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'c1');
    await writeDesired(app, tenant.token, { deviceId: 'c1', desired: { fan: { speed: 1 }, led: 'on' } });
    // Another writer changes fan.speed after our read of version 1.
    await writeDesired(app, tenant.token, { deviceId: 'c1', desired: { fan: { speed: 2 } }, expectedVersion: 1 });
    const conflict = await writeDesired(app, tenant.token, { deviceId: 'c1', desired: { fan: { speed: 3 }, led: 'off' }, expectedVersion: 1 });
    expect(conflict).toEqual({
      __typename: 'TwinVersionConflict',
      code: 'TWIN_VERSION_CONFLICT',
      message: 'Desired state is at version 2, not 1',
      expectedVersion: 1,
      currentVersion: 2,
      currentEtag: '"2"',
      currentDesired: { fan: { speed: 2 }, led: 'on' },
      conflictingPaths: ['fan.speed'],
    });
    const twin = (await readTwin(app, tenant.token, 'c1'))!;
    expect(twin).toMatchObject({ desiredVersion: 2, desired: { fan: { speed: 2 }, led: 'on' } });
    expect((await readHistory(app, tenant.token, { deviceId: 'c1' })).totalCount).toBe(2);
  });

  test('a stale write touching only unchanged paths is merged automatically and says so', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'am');
    await writeDesired(app, tenant.token, { deviceId: 'am', desired: { a: 1, b: 1 } });
    await writeDesired(app, tenant.token, { deviceId: 'am', desired: { a: 2 }, expectedVersion: 1 });
    const merged = await writeDesired(app, tenant.token, { deviceId: 'am', desired: { b: 2, c: { d: 1 } }, ifMatch: '"1"' });
    expect(merged).toMatchObject({ __typename: 'UpdateDeviceTwinDesiredPayload', autoMerged: true, basedOnVersion: 2, desiredVersion: 3 });
    expect(merged['twin']).toEqual({ desiredVersion: 3, desired: { a: 2, b: 2, c: { d: 1 } } });
  });

  test('a parent or child of a changed path conflicts; REPLACE and future versions never merge', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'pc');
    await writeDesired(app, tenant.token, { deviceId: 'pc', desired: { net: { apn: 'a', mtu: 1 }, x: 1 } });
    await writeDesired(app, tenant.token, { deviceId: 'pc', desired: { net: { apn: 'b' } } });
    const parent = await writeDesired(app, tenant.token, { deviceId: 'pc', desired: { net: null }, expectedVersion: 1 });
    expect(parent).toMatchObject({ __typename: 'TwinVersionConflict', conflictingPaths: ['net'] });
    const replace = await writeDesired(app, tenant.token, { deviceId: 'pc', desired: { net: { apn: 'a', mtu: 1 }, x: 2 }, expectedVersion: 1, mode: 'REPLACE' });
    expect(replace).toMatchObject({ __typename: 'TwinVersionConflict', currentVersion: 2, conflictingPaths: [] });
    const future = await writeDesired(app, tenant.token, { deviceId: 'pc', desired: { x: 3 }, expectedVersion: 9 });
    expect(future).toMatchObject({ __typename: 'TwinVersionConflict', expectedVersion: 9, currentVersion: 2, conflictingPaths: [] });
    expect((await readTwin(app, tenant.token, 'pc'))!.desiredVersion).toBe(2);
  });

  test.for([
    [{ ifMatch: 'seven' }, ['input', 'ifMatch']],
    [{ ifMatch: '"3"', expectedVersion: 4 }, ['input', 'ifMatch']],
    [{ expectedVersion: -1 }, ['input', 'expectedVersion']],
    [{ deviceId: 'bad/id' }, ['input', 'deviceId']],
  ] as const)('%j is a ValidationError at its path', async ([extra, path], { tenant }) => {
    await registerDevice(app, tenant.token, 'val');
    const result = await writeDesired(app, tenant.token, { deviceId: 'val', desired: { a: 1 }, ...extra });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    expect((result['issues'] as Array<{ path: string[] }>).map((issue) => issue.path)).toContainEqual(path);
  });
});

describe('limits', () => {
  test('a document over the size or depth limit is TwinDocumentTooLarge and nothing is stored', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'big');
    await writeDesired(app, tenant.token, { deviceId: 'big', desired: { keep: 'me' } });
    const large = await writeDesired(app, tenant.token, { deviceId: 'big', desired: { blob: 'x'.repeat(33_000) } });
    expect(large).toMatchObject({ __typename: 'TwinDocumentTooLarge', code: 'TWIN_DOCUMENT_TOO_LARGE', maxDocumentBytes: 32_768, maxDepth: 10 });
    expect(large['issues']).toMatchObject([{ code: 'TOO_BIG', path: ['desired'] }]);
    // Each write alone is small; the merged result is what counts.
    await writeDesired(app, tenant.token, { deviceId: 'big', desired: { half1: 'x'.repeat(17_000) } });
    expect(await writeDesired(app, tenant.token, { deviceId: 'big', desired: { half2: 'x'.repeat(17_000) } })).toMatchObject({ __typename: 'TwinDocumentTooLarge' });
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 11; level += 1) deep = { d: deep };
    const tooDeep = await writeDesired(app, tenant.token, { deviceId: 'big', desired: deep });
    expect(tooDeep['issues']).toMatchObject([{ code: 'TOO_DEEP' }]);
    expect(await readTwin(app, tenant.token, 'big')).toMatchObject({ desiredVersion: 2, desired: { keep: 'me', half1: 'x'.repeat(17_000) } });
  });
});

describe('history', () => {
  test('every accepted write is recorded, newest first, paged, with its actor; twinAt reads a version', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'h1');
    for (let index = 1; index <= 5; index += 1) await writeDesired(app, tenant.token, { deviceId: 'h1', desired: { step: index } });
    const first = await readHistory(app, tenant.token, { deviceId: 'h1', first: 3 });
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((edge) => edge.node.version)).toEqual([5, 4, 3]);
    expect(first.edges[0]!.node).toMatchObject({ direction: 'DESIRED', actorType: 'USER', actorId: `user@${tenant.tenantId}`, mode: 'MERGE', patch: { step: 5 } });
    const rest = await readHistory(app, tenant.token, { deviceId: 'h1', first: 3, after: first.pageInfo.endCursor });
    expect(rest.edges.map((edge) => edge.node.version)).toEqual([2, 1]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect((await readHistory(app, tenant.token, { deviceId: 'h1', direction: 'REPORTED' })).totalCount).toBe(0);

    const at = await app.gql<{ twinAt: unknown }>(tenant.token, TWIN_AT, { deviceId: 'h1', version: 3 });
    expect(at.data?.twinAt).toEqual({ version: 3, document: { step: 3 }, mode: 'MERGE', actorType: 'USER' });
    const missing = await app.gql<{ twinAt: unknown }>(tenant.token, TWIN_AT, { deviceId: 'h1', version: 6 });
    expect(missing.data?.twinAt).toBeNull();
  });

  test('a service token is recorded as a service actor', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'svc');
    await writeDesired(app, tenant.serviceToken, { deviceId: 'svc', desired: { a: 1 } });
    const history = await readHistory(app, tenant.token, { deviceId: 'svc' });
    expect(history.edges[0]!.node).toMatchObject({ actorType: 'SERVICE' });
  });
});

describe('access', () => {
  test('unknown and decommissioned devices are NotFound; operators cannot write', async ({ tenant }) => {
    expect(await writeDesired(app, tenant.token, { deviceId: 'ghost', desired: { a: 1 } })).toMatchObject({ __typename: 'NotFound', code: 'NOT_FOUND' });
    await registerDevice(app, tenant.token, 'gone');
    await app.gql(tenant.token, `mutation { decommissionDevice(input: { deviceId: "gone" }) { __typename } }`);
    expect(await writeDesired(app, tenant.token, { deviceId: 'gone', desired: { a: 1 } })).toMatchObject({ __typename: 'NotFound' });
    await registerDevice(app, tenant.token, 'op');
    const operator = await app.gql(tenant.operatorToken, `mutation { updateDeviceTwinDesired(input: { deviceId: "op", desired: { a: 1 } }) { __typename } }`);
    expect(operator.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  test("tenant B can neither read nor write tenant A's twin, even with the same device ID", async ({ tenant: a, otherTenant: b }) => {
    await registerDevice(app, a.token, 'shared-id');
    await writeDesired(app, a.token, { deviceId: 'shared-id', desired: { secret: 'a' } });
    expect(await writeDesired(app, b.token, { deviceId: 'shared-id', desired: { pwned: true } })).toMatchObject({ __typename: 'NotFound' });
    expect(await readTwin(app, b.token, 'shared-id')).toBeNull();
    expect((await readHistory(app, b.token, { deviceId: 'shared-id' })).totalCount).toBe(0);
    const at = await app.gql<{ twinAt: unknown }>(b.token, TWIN_AT, { deviceId: 'shared-id', version: 1 });
    expect(at.data?.twinAt).toBeNull();
    // B's own device of the same ID is B's own twin.
    await registerDevice(app, b.token, 'shared-id');
    expect(await writeDesired(app, b.token, { deviceId: 'shared-id', desired: { mine: 'b' }, expectedVersion: 0 })).toMatchObject({ desiredVersion: 1 });
    expect(await readTwin(app, a.token, 'shared-id')).toMatchObject({ desiredVersion: 1, desired: { secret: 'a' } });
  });
});
