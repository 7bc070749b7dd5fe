/**
 * Compiled reads (src/graphql/compiled-reads.ts) must answer exactly as the resolvers do. Two
 * servers on one database: one compiles, one (GRAPHQL_COMPILED_READS=false) always resolves. Every
 * query here runs on both and must give the same JSON, byte for byte, and the compiled server's
 * metrics say which path it took, so a query that silently fell back cannot pass as compiled.
 * The "every field" queries are generated from the schema's SQL-read annotations: a field that
 * gains one is covered without editing this file.
 */
import type { GraphQLObjectType} from 'graphql';
import { getNamedType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { buildTopic } from '../harness/topics.js';
import { closeClients, deviceClient, keepPresence, publishSettled, registerDevice, status } from '../connectivity/support.js';
import { SQL_READ_EXTENSION, type SqlRead } from '../../src/graphql/sql-reads.js';

let compiled: TestApp;
let resolvers: TestApp;
beforeAll(async () => {
  [compiled, resolvers] = await Promise.all([startTestApp(), startTestApp({ GRAPHQL_COMPILED_READS: 'false' })]);
});
afterAll(async () => {
  await closeClients();
  await Promise.all([compiled?.stop(), resolvers?.stop()]);
});

async function compiledCount(path: 'compiled' | 'resolvers'): Promise<number> {
  const metric = await compiled.pulse.app.metrics.graphqlCompiledReads.get();
  return metric.values.find((value) => value.labels['path'] === path)?.value ?? 0;
}

/** Runs `query` on both servers; returns the (equal) response and the path the compiling server took. */
async function both(token: string, query: string, variables?: Record<string, unknown>) {
  const before = { compiled: await compiledCount('compiled'), resolvers: await compiledCount('resolvers') };
  const [ours, reference] = await Promise.all([compiled.gql(token, query, variables), resolvers.gql(token, query, variables)]);
  expect(ours).toEqual(reference);
  // Key order too: a client may rely on selection order.
  expect(JSON.stringify(ours)).toBe(JSON.stringify(reference));
  const after = { compiled: await compiledCount('compiled'), resolvers: await compiledCount('resolvers') };
  const path = after.compiled > before.compiled ? 'compiled' : after.resolvers > before.resolvers ? 'resolvers' : 'none';
  return { response: ours, path };
}

/** Every field of `type` that has a SQL read and no arguments, relations expanded `depth` levels. */
function everyReadField(schema: GraphQLSchema, typeName: string, depth = 2): string {
  const type = schema.getType(typeName) as GraphQLObjectType;
  const parts = ['__typename'];
  for (const field of Object.values(type.getFields())) {
    const read = field.extensions?.[SQL_READ_EXTENSION] as SqlRead | undefined;
    if (!read || field.args.length > 0) continue;
    if (read.kind === 'value') parts.push(field.name);
    else if (read.kind === 'relation' && depth > 0) parts.push(`${field.name} { ${everyReadField(schema, getNamedType(field.type).name, depth - 1)} }`);
  }
  return parts.join(' ');
}

const UPSERT_CONNECTION = /* GraphQL */ `
  mutation($input: UpsertDeviceConnectionInput!) { upsertDeviceConnection(input: $input) { __typename ... on Error { code message } } }`;
const UPDATE_DEVICE = /* GraphQL */ `
  mutation($input: UpdateDeviceInput!) { updateDevice(input: $input) { __typename ... on Error { code message } } }`;
const RECORD_USAGE = /* GraphQL */ `
  mutation($input: RecordDataUsageInput!) { recordDataUsage(input: $input) { __typename ... on Error { code } } }`;

/** A tenant with devices that exercise every read: tags, metadata, connections, presence, a decommissioned one. */
async function seed(tenant: { tenantId: string; token: string; serviceToken: string }) {
  await keepPresence(compiled, tenant.token);
  const ids = ['a-1', 'a-2', 'b-1', 'b-2', 'c-1', 'Z_up', 'z.9'];
  for (const id of ids) await registerDevice(compiled, tenant.token, id);
  const updates = [
    { deviceId: 'a-1', name: 'Pump "north"', model: 'X1', firmwareVersion: '1.2.3', metadata: { nested: { list: [1, 2.5, null, 'ß'], flag: true }, 'key with spaces': '\u0001' }, tags: [{ key: 'zone', value: 'north' }, { key: 'a', value: 'first' }, { key: 'Zeta', value: 'ü "q"' }] },
    { deviceId: 'a-2', tags: [{ key: 'zone', value: 'south' }] },
    { deviceId: 'b-1', name: 'Gateway\nline two', metadata: { n: 1e21, small: 0.1 } },
  ];
  for (const input of updates) {
    const result = await compiled.gql<{ updateDevice: { __typename: string } }>(tenant.token, UPDATE_DEVICE, { input });
    expect(result.data?.updateDevice.__typename, JSON.stringify(result)).toBe('UpdateDevicePayload');
  }
  const connections = [
    { deviceId: 'a-1', connectionType: 'CELLULAR', carrierName: 'Hologram', simStatus: 'ACTIVE', networkStatus: 'CONNECTED', ipAddress: '10.20.30.40', dataLimitMb: 100, metadata: { rat: 'LTE-M' } },
    { deviceId: 'b-1', carrierName: 'Twilio', ipAddress: '2001:db8::/32', networkStatus: 'DISCONNECTED', lastNetworkAttach: '2026-01-02T03:04:05.678Z' },
  ];
  for (const input of connections) {
    const result = await compiled.gql<{ upsertDeviceConnection: { __typename: string } }>(tenant.token, UPSERT_CONNECTION, { input });
    expect(result.data?.upsertDeviceConnection.__typename, JSON.stringify(result)).toBe('UpsertDeviceConnectionPayload');
  }
  const usage = await compiled.gql<{ recordDataUsage: { __typename: string } }>(tenant.serviceToken, RECORD_USAGE, {
    input: { deviceId: 'a-1', dataUsedMb: 150.123456 },
  });
  expect(usage.data?.recordDataUsage.__typename).toBe('RecordDataUsagePayload');
  // Presence written by the bridge: timestamps with microseconds, as production has them.
  const device = await deviceClient({ url: compiled.mqttUrl });
  await publishSettled(compiled, device, buildTopic.status(tenant.tenantId, 'a-2'), status('online', 's-1'));
  const decommission = await compiled.gql(tenant.token, `mutation { decommissionDevice(input: { deviceId: "c-1" }) { __typename } }`);
  expect(decommission.errors).toBeUndefined();
  return ids;
}

describe('compiled reads answer as the resolvers do', () => {
  test('every field with a SQL read, on a page and on one device', async ({ tenant }) => {
    await seed(tenant);
    const schema = compiled.pulse.app.yoga.getEnveloped().schema as GraphQLSchema;
    const device = everyReadField(schema, 'Device');
    for (const field of ['id', 'status', 'lastSeenAt', 'metadata', 'tags {', 'connection {', 'ipAddress']) expect(device).toContain(field);
    const page = await both(
      tenant.token,
      `{ __typename devices(first: 10) { __typename totalCount pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } edges { __typename cursor node { ${device} } } } }`,
    );
    expect(page.path).toBe('compiled');
    const edges = (page.response.data as { devices: { edges: Array<{ node: Record<string, unknown> }> } }).devices.edges;
    expect(edges.map((edge) => edge.node['deviceId'])).toEqual(['Z_up', 'a-1', 'a-2', 'b-1', 'b-2', 'z.9']);
    expect(edges[1]!.node['connection']).toMatchObject({ carrierName: 'Hologram', dataUsedMb: 150.123456, ipAddress: '10.20.30.40' });
    expect(edges[2]!.node['status']).toBe('ONLINE');
    for (const deviceId of ['a-1', 'b-1', 'c-1', 'nope']) {
      const one = await both(tenant.token, `query($id: String!) { device(deviceId: $id) { ${device} } }`, { id: deviceId });
      expect(one.path).toBe('compiled');
    }
  });

  test('pages by cursor to the end, with filters and the decommissioned included', async ({ tenant }) => {
    await seed(tenant);
    const query = `query($first: Int, $after: String, $filter: DeviceFilter) {
      devices(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id deviceId } } } }`;
    for (const filter of [undefined, { includeDecommissioned: true }, { namePrefix: 'a' }, { status: ['ONLINE'] }, { carrier: 'Twilio' }]) {
      let after: string | null = null;
      let pages = 0;
      do {
        const { response, path } = await both(tenant.token, query, { first: 2, after, filter });
        expect(path).toBe('compiled');
        const devices = (response.data as { devices: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } }).devices;
        after = devices.pageInfo.hasNextPage ? devices.pageInfo.endCursor : null;
        pages += 1;
      } while (after && pages < 10);
      expect(pages).toBeLessThan(10);
    }
    const zero = await both(tenant.token, `{ devices(first: 0) { pageInfo { hasNextPage startCursor } edges { cursor } totalCount } }`);
    expect(zero.path).toBe('compiled');
  });

  test('aliases, fragments, directives and __typename', async ({ tenant }) => {
    await seed(tenant);
    const query = `query($withTags: Boolean!, $skipName: Boolean!) {
      kind: __typename
      first: devices(first: 2) { edges { node { ...Names tags @include(if: $withTags) { k: key value } } } }
      second: devices(first: 1, after: null) { count: totalCount edges { c: cursor n: node { ... on Device { deviceId st: status } } } }
      one: device(deviceId: "a-1") { name @skip(if: $skipName) again: name connection { carrierName } }
    }
    fragment Names on Device { deviceId name deviceId }`;
    for (const variables of [{ withTags: true, skipName: false }, { withTags: false, skipName: true }]) {
      const { path } = await both(tenant.token, query, variables);
      expect(path).toBe('compiled');
    }
  });

  test('RLS scopes the compiled statement: another tenant sees none of these devices; an operator sees across tenants', async ({ tenant, otherTenant }) => {
    await seed(tenant);
    const query = `{ devices(first: 50) { totalCount edges { node { tenantId deviceId } } } device(deviceId: "a-1") { deviceId } }`;
    const other = await both(otherTenant.token, query);
    expect(other.path).toBe('compiled');
    expect(other.response.data).toEqual({ devices: { totalCount: 0, edges: [] }, device: null });
    const operator = await both(otherTenant.operatorToken, `query($t: String!) { devices(filter: { tenantId: $t }) { totalCount } device(deviceId: "a-1", tenantId: $t) { deviceId } }`, {
      t: tenant.tenantId,
    });
    expect(operator.path).toBe('compiled');
    expect(operator.response.data).toEqual({ devices: { totalCount: 6 }, device: { deviceId: 'a-1' } });
    // A customer naming another tenant still reads its own.
    const own = await both(otherTenant.token, `query($t: String!) { device(deviceId: "a-1", tenantId: $t) { deviceId } }`, { t: tenant.tenantId });
    expect(own.path).toBe('compiled');
    expect(own.response.data).toEqual({ device: null });
  });

  test('what the compiler does not cover runs through the resolvers, errors included', async ({ tenant }) => {
    await seed(tenant);
    const cases: Array<[string, Record<string, unknown>?]> = [
      [`{ devices(first: 2) { edges { node { deviceId twin { desired } } } } }`],
      [`{ devices(last: 2) { edges { node { deviceId } } } }`],
      [`{ devices(first: -1) { edges { node { deviceId } } } }`],
      [`{ devices(after: "not-a-cursor") { edges { node { deviceId } } } }`],
      [`query($f: DeviceFilter) { devices(filter: $f) { totalCount } }`, { f: { namePrefix: 'x'.repeat(10_000) } }],
      [`query($f: DeviceFilter) { devices(filter: $f) { totalCount } }`, { f: { status: ['NOPE'] } }],
      [`{ device(deviceId: "a-1") { deviceId site { siteId } } }`],
      [`query($id: String!) { device(deviceId: $id) { deviceId } }`, { id: 'a\u0000b' }],
      [`query($f: DeviceFilter) { devices(filter: $f) { totalCount } }`, { f: { namePrefix: 'a\u0000' } }],
    ];
    for (const [query, variables] of cases) {
      const { path } = await both(tenant.token, query, variables);
      expect(path, query).not.toBe('compiled');
    }
  });
});
