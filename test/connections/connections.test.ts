import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { keepPresence, presenceOf, registerDevice } from '../connectivity/support.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const CONNECTION_FIELDS = `connectionType carrierName carrierAccountId planName apn simIccid simStatus dataLimitMb billingCycleStart
  dataUsedMb dataUsedUpdatedAt overDataLimit ipAddress msisdn networkStatus lastNetworkAttach lastNetworkDetach metadata`;
const UPSERT = /* GraphQL */ `
  mutation($input: UpsertDeviceConnectionInput!) {
    upsertDeviceConnection(input: $input) {
      __typename
      ... on UpsertDeviceConnectionPayload { connection { ${CONNECTION_FIELDS} } }
      ... on Error { code message }
      ... on ValidationError { issues { path message code } }
    }
  }`;
const DELETE = /* GraphQL */ `
  mutation($deviceId: String!) { deleteDeviceConnection(input: { deviceId: $deviceId }) { __typename ... on DeleteDeviceConnectionPayload { deviceId device { connection { apn } } } ... on Error { code } } }`;
const READ = `query($deviceId: String!) { device(deviceId: $deviceId) { connection { ${CONNECTION_FIELDS} } } }`;

type Payload = { __typename: string; connection?: Record<string, unknown>; issues?: Array<{ path: string[]; message: string; code: string }>; code?: string };
const upsert = async (token: string, input: Record<string, unknown>) =>
  (await app.gql<{ upsertDeviceConnection: Payload }>(token, UPSERT, { input })).data?.upsertDeviceConnection;
const read = async (token: string, deviceId: string) =>
  (await app.gql<{ device: { connection: Record<string, unknown> | null } | null }>(token, READ, { deviceId })).data?.device?.connection;

const FULL = {
  connectionType: 'CELLULAR',
  carrierName: 'Hologram',
  carrierAccountId: 'acct-42',
  planName: 'IoT 1GB',
  apn: 'hologram',
  simIccid: '89014103211118510720',
  simStatus: 'ACTIVE',
  dataLimitMb: 1024,
  billingCycleStart: 15,
  ipAddress: '10.20.30.40',
  msisdn: '+15551234567',
  networkStatus: 'CONNECTED',
  metadata: { rat: 'LTE-M' },
};

describe('connection CRUD', () => {
  test('creates with every column, updates some (null clears, omitted keeps) and deletes', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'c1');
    const created = await upsert(tenant.token, { deviceId: 'c1', ...FULL });
    expect(created).toEqual({
      __typename: 'UpsertDeviceConnectionPayload',
      connection: { ...FULL, dataUsedMb: 0, dataUsedUpdatedAt: null, overDataLimit: false, lastNetworkAttach: null, lastNetworkDetach: null },
    });

    const updated = await upsert(tenant.token, { deviceId: 'c1', apn: null, dataLimitMb: null, ipAddress: '2001:db8::1', simStatus: 'SUSPENDED' });
    expect(updated?.connection).toMatchObject({ ...FULL, apn: null, dataLimitMb: null, ipAddress: '2001:db8::1', simStatus: 'SUSPENDED' });

    const deleted = await app.gql(tenant.token, DELETE, { deviceId: 'c1' });
    expect(deleted.data?.['deleteDeviceConnection']).toEqual({ __typename: 'DeleteDeviceConnectionPayload', deviceId: 'c1', device: { connection: null } });
    expect(await read(tenant.token, 'c1')).toBeNull();
    const again = await app.gql(tenant.token, DELETE, { deviceId: 'c1' });
    expect(again.data?.['deleteDeviceConnection']).toEqual({ __typename: 'NotFound', code: 'NOT_FOUND' });
  });

  test('defaults apply on creation; unknown and foreign devices are NotFound', async ({ tenant, otherTenant }) => {
    await registerDevice(app, tenant.token, 'c2');
    expect((await upsert(tenant.token, { deviceId: 'c2' }))?.connection).toMatchObject({
      connectionType: 'CELLULAR',
      simStatus: 'ACTIVE',
      billingCycleStart: 1,
      dataUsedMb: 0,
      networkStatus: 'UNKNOWN',
      metadata: {},
    });
    expect(await upsert(tenant.token, { deviceId: 'ghost' })).toMatchObject({ __typename: 'NotFound' });
    expect(await upsert(otherTenant.token, { deviceId: 'c2', apn: 'stolen' })).toMatchObject({ __typename: 'NotFound' });
    expect(await read(tenant.token, 'c2')).toMatchObject({ apn: null });
    const operator = await app.gql(tenant.operatorToken, UPSERT, { input: { deviceId: 'c2', apn: 'x' } });
    expect(operator.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('connection validation: every check, violated once', () => {
  test.for([
    [{ billingCycleStart: 0 }, 'billingCycleStart'],
    [{ billingCycleStart: 29 }, 'billingCycleStart'],
    [{ dataLimitMb: -1 }, 'dataLimitMb'],
    [{ ipAddress: '300.1.2.3' }, 'ipAddress'],
    [{ ipAddress: 'not-an-ip' }, 'ipAddress'],
    [{ simIccid: '1234' }, 'simIccid'],
    [{ msisdn: 'call me' }, 'msisdn'],
    [{ carrierName: '  ' }, 'carrierName'],
    [{ lastNetworkAttach: new Date(Date.now() + 3_600_000).toISOString() }, 'lastNetworkAttach'],
    [{ connectionType: null }, 'connectionType'],
  ] as const)('%j is a ValidationError at input.%s and stores nothing', async ([input, field], { tenant }) => {
    await registerDevice(app, tenant.token, 'v');
    const result = await upsert(tenant.token, { deviceId: 'v', apn: 'kept-out', ...input });
    expect(result?.__typename).toBe('ValidationError');
    expect(result?.issues?.map((issue) => issue.path)).toEqual([['input', field]]);
    expect(await read(tenant.token, 'v')).toBeNull();
  });

  test('every problem at once, one issue per field', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'many');
    const result = await upsert(tenant.token, { deviceId: 'many', billingCycleStart: 40, dataLimitMb: -5, ipAddress: 'x', msisdn: 'y' });
    expect(result?.issues?.map((issue) => issue.path.join('.')).sort()).toEqual(['input.billingCycleStart', 'input.dataLimitMb', 'input.ipAddress', 'input.msisdn']);
  });

  test.for([
    ['connectionType', 'TAPE'],
    ['simStatus', 'STOLEN'],
    ['networkStatus', 'SORT_OF'],
  ] as const)('an unknown %s (%s) is refused by the schema, naming the field', async ([field, value], { tenant }) => {
    const result = await app.gql(tenant.token, UPSERT, { input: { deviceId: 'x', [field]: value } });
    expect(result.errors?.[0]?.message).toContain(field);
    expect(result.errors?.[0]?.message).toContain(value);
  });
});

describe('recordDataUsage', () => {
  const RECORD = /* GraphQL */ `
    mutation($input: RecordDataUsageInput!) {
      recordDataUsage(input: $input) {
        __typename
        ... on RecordDataUsagePayload { applied connection { dataUsedMb dataUsedUpdatedAt overDataLimit } }
        ... on Error { code }
        ... on ValidationError { issues { path } }
      }
    }`;

  test('is for the IoT service role only, moves forward in time, and flags usage over the limit', async ({ tenant }) => {
    await registerDevice(app, tenant.token, 'u1');
    await upsert(tenant.token, { deviceId: 'u1', dataLimitMb: 100 });
    const at = new Date(Date.now() - 60_000);
    for (const token of [tenant.token, tenant.operatorToken]) {
      const refused = await app.gql(token, RECORD, { input: { deviceId: 'u1', dataUsedMb: 5 } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    }
    const first = await app.gql(tenant.serviceToken, RECORD, { input: { deviceId: 'u1', dataUsedMb: 150.5, measuredAt: at } });
    expect(first.data?.['recordDataUsage']).toEqual({
      __typename: 'RecordDataUsagePayload',
      applied: true,
      connection: { dataUsedMb: 150.5, dataUsedUpdatedAt: at.toISOString(), overDataLimit: true },
    });
    const older = await app.gql(tenant.serviceToken, RECORD, { input: { deviceId: 'u1', dataUsedMb: 1, measuredAt: new Date(at.getTime() - 1_000) } });
    expect(older.data?.['recordDataUsage']).toMatchObject({ applied: false, connection: { dataUsedMb: 150.5 } });

    const negative = await app.gql(tenant.serviceToken, RECORD, { input: { deviceId: 'u1', dataUsedMb: -1 } });
    expect(negative.data?.['recordDataUsage']).toEqual({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', issues: [{ path: ['input', 'dataUsedMb'] }] });
    const missing = await app.gql(tenant.serviceToken, RECORD, { input: { deviceId: 'no-connection', dataUsedMb: 1 } });
    expect(missing.data?.['recordDataUsage']).toMatchObject({ __typename: 'NotFound' });
  });

  // Issue 14: a GraphQL caller is bounded by its token's tenant whatever its role (SPEC, Tenancy):
  // the carrier sync uses one service token per tenant; naming another tenant reaches nothing.
  test("the service cannot write another tenant's usage by naming it", async ({ tenant, otherTenant }) => {
    await registerDevice(app, tenant.token, 'u2');
    await upsert(tenant.token, { deviceId: 'u2' });
    const result = await app.gql(otherTenant.serviceToken, RECORD, { input: { deviceId: 'u2', tenantId: tenant.tenantId, dataUsedMb: 7 } });
    expect(result.data?.['recordDataUsage']).toMatchObject({ __typename: 'NotFound' });
    const own = await app.gql(tenant.serviceToken, RECORD, { input: { deviceId: 'u2', dataUsedMb: 7 } });
    expect(own.data?.['recordDataUsage']).toMatchObject({ applied: true, connection: { dataUsedMb: 7 } });
  });
});

describe('network attach and detach feed the connectivity log', () => {
  test('a detach takes the device OFFLINE with NETWORK_DETACH, an attach brings it back with NETWORK_ATTACH', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, 'n1');
    await upsert(tenant.token, { deviceId: 'n1', networkStatus: 'CONNECTED' }); // first write: no change to log
    expect((await presenceOf(app, tenant.token, 'n1')).events).toEqual([]);

    await upsert(tenant.token, { deviceId: 'n1', networkStatus: 'CONNECTED', lastNetworkAttach: new Date(Date.now() - 1_000) });
    expect(await presenceOf(app, tenant.token, 'n1')).toMatchObject({ status: 'ONLINE', events: [{ eventType: 'CONNECTED', reason: 'NETWORK_ATTACH' }] });

    const detached = await upsert(tenant.token, { deviceId: 'n1', networkStatus: 'DISCONNECTED' });
    expect(detached?.connection?.['lastNetworkDetach']).not.toBeNull(); // timed by the change
    await upsert(tenant.token, { deviceId: 'n1', networkStatus: 'DISCONNECTED', apn: 'same-detach' }); // no second event
    const after = await presenceOf(app, tenant.token, 'n1');
    expect(after.status).toBe('OFFLINE');
    expect(after.events.map((event) => `${event.eventType}:${event.reason}`)).toEqual(['DISCONNECTED:NETWORK_DETACH', 'CONNECTED:NETWORK_ATTACH']);

    await upsert(tenant.token, { deviceId: 'n1', networkStatus: 'CONNECTED' });
    expect(await presenceOf(app, tenant.token, 'n1')).toMatchObject({ status: 'ONLINE', events: [{ reason: 'NETWORK_ATTACH', previousStatus: 'OFFLINE' }, {}, {}] });
  });
});
