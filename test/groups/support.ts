/**
 * What the groups tests share: GraphQL documents for groups, filters and fleet summaries, seeding
 * through the public API, and the one owner-SQL helper for device state the API sets only through
 * the MQTT channel (see {@link setDeviceStateDirectly}).
 */
import pg from 'pg';
import { expect, inject } from 'vitest';
import type { TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';

export const DEVICE_IDS = /* GraphQL */ `
  query($filter: DeviceFilter, $first: Int, $after: String) {
    devices(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { deviceId } } }
  }`;

const GROUP_RESULT = `
  __typename
  ... on ValidationError { message issues { path code message } }
  ... on Error { code message }`;

export const CREATE_STATIC = /* GraphQL */ `
  mutation($input: CreateDeviceGroupInput!) {
    createDeviceGroup(input: $input) { ${GROUP_RESULT} ... on CreateDeviceGroupPayload { group { id groupId name groupType } } }
  }`;

export const CREATE_DYNAMIC = /* GraphQL */ `
  mutation($input: CreateDynamicDeviceGroupInput!) {
    createDynamicDeviceGroup(input: $input) { ${GROUP_RESULT} ... on CreateDynamicDeviceGroupPayload { group { id groupId name groupType queryFilter } } }
  }`;

export const UPDATE_GROUP = /* GraphQL */ `
  mutation($input: UpdateDeviceGroupInput!) {
    updateDeviceGroup(input: $input) { ${GROUP_RESULT} ... on UpdateDeviceGroupPayload { group { groupId name description groupType queryFilter } } }
  }`;

export const DELETE_GROUP = /* GraphQL */ `
  mutation($input: DeleteDeviceGroupInput!) { deleteDeviceGroup(input: $input) { ${GROUP_RESULT} ... on DeleteDeviceGroupPayload { groupId } } }`;

const MEMBERS_RESULT = (payload: string) => `${GROUP_RESULT} ... on ${payload} { group { groupId memberCount } results { deviceId outcome } }`;

export const ADD_MEMBERS = /* GraphQL */ `
  mutation($input: GroupMembersInput!) { addDevicesToGroup(input: $input) { ${MEMBERS_RESULT('AddDevicesToGroupPayload')} } }`;

export const REMOVE_MEMBERS = /* GraphQL */ `
  mutation($input: GroupMembersInput!) { removeDevicesFromGroup(input: $input) { ${MEMBERS_RESULT('RemoveDevicesFromGroupPayload')} } }`;

export const GROUP_MEMBERS = /* GraphQL */ `
  query($groupId: String!, $first: Int, $after: String, $filter: DeviceFilter) {
    deviceGroup(groupId: $groupId) {
      groupId groupType memberCount
      members(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { node { deviceId } } }
    }
  }`;

export const PREVIEW = /* GraphQL */ `
  query($filter: DeviceFilter!, $first: Int) { previewDynamicGroup(filter: $filter, first: $first) { memberCount members { deviceId } } }`;

export const FLEET = /* GraphQL */ `
  query($filter: DeviceFilter, $groupBy: [FleetDimension!]!, $tagKey: String) {
    fleetSummary(filter: $filter, groupBy: $groupBy, tagKey: $tagKey) { total buckets { count values { dimension value } } }
  }`;

export const UPSERT_CONNECTION = /* GraphQL */ `
  mutation($input: UpsertDeviceConnectionInput!) { upsertDeviceConnection(input: $input) { __typename ... on Error { message } } }`;

export const RECORD_USAGE = /* GraphQL */ `
  mutation($input: RecordDataUsageInput!) { recordDataUsage(input: $input) { __typename ... on Error { message } } }`;

export const UPDATE_DEVICE = /* GraphQL */ `
  mutation($input: UpdateDeviceInput!) { updateDevice(input: $input) { __typename ... on Error { message } } }`;

export const UPDATE_DESIRED = /* GraphQL */ `
  mutation($input: UpdateDeviceTwinDesiredInput!) { updateDeviceTwinDesired(input: $input) { __typename ... on Error { message } } }`;

export type Filter = Record<string, unknown>;
export type Issue = { path: string[]; code: string; message: string };
export type GroupResult = { __typename: string; group?: { id: string; groupId: string; groupType: string; queryFilter: unknown }; issues?: Issue[]; code?: string; message?: string };

/** A GraphQL call that must not fail at the GraphQL level (typed errors are data and pass). */
export async function ok<T>(app: TestApp, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await app.gql<T>(token, query, variables);
  if (result.errors || !result.data) throw new Error(`GraphQL errors for ${JSON.stringify(variables)}: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** A mutation whose one field must answer with `typename`; returns that field. */
export async function expectResult<T = Record<string, unknown>>(app: TestApp, token: string, query: string, input: unknown, typename: string): Promise<T> {
  const data = await ok<Record<string, { __typename: string }>>(app, token, query, { input });
  const field = Object.values(data)[0]!;
  if (field.__typename !== typename) throw new Error(`expected ${typename}, got ${JSON.stringify(field)}`);
  return field as T;
}

export interface DeviceSeed {
  deviceId: string;
  name?: string;
  siteId?: string | null;
  tags?: Array<{ key: string; value: string }>;
}

export async function registerDevice(app: TestApp, token: string, seed: DeviceSeed): Promise<void> {
  await expectResult(app, token, REGISTER_DEVICE, { deviceId: seed.deviceId, name: seed.name ?? seed.deviceId, siteId: seed.siteId ?? null, tags: seed.tags ?? [] }, 'RegisterDevicePayload');
}

export async function registerDevices(app: TestApp, token: string, ids: readonly string[]): Promise<void> {
  for (const deviceId of ids) await registerDevice(app, token, { deviceId });
}

export async function createSite(app: TestApp, token: string, siteId: string): Promise<void> {
  await expectResult(app, token, `mutation($input: CreateSiteInput!) { createSite(input: $input) { __typename } }`, { siteId, name: siteId }, 'CreateSitePayload');
}

export async function createStaticGroup(app: TestApp, token: string, name: string): Promise<string> {
  return (await expectResult<GroupResult>(app, token, CREATE_STATIC, { name }, 'CreateDeviceGroupPayload')).group!.groupId;
}

export async function createDynamicGroup(app: TestApp, token: string, name: string, queryFilter: Filter): Promise<string> {
  return (await expectResult<GroupResult>(app, token, CREATE_DYNAMIC, { name, queryFilter }, 'CreateDynamicDeviceGroupPayload')).group!.groupId;
}

export async function addMembers(app: TestApp, token: string, groupId: string, deviceIds: readonly string[]) {
  return expectResult<{ results: Array<{ deviceId: string; outcome: string }>; group: { memberCount: number } }>(
    app, token, ADD_MEMBERS, { groupId, deviceIds }, 'AddDevicesToGroupPayload',
  );
}

/** Every device ID `devices(filter)` lists (pages of 500), checked against its totalCount. */
export async function listIds(app: TestApp, token: string, filter: Filter): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  let total = -1;
  for (;;) {
    type Page = { devices: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { deviceId: string } }> } };
    const page: Page = await ok<Page>(app, token, DEVICE_IDS, { filter, first: 500, after });
    total = page.devices.totalCount;
    ids.push(...page.devices.edges.map((edge) => edge.node.deviceId));
    if (!page.devices.pageInfo.hasNextPage) break;
    after = page.devices.pageInfo.endCursor;
  }
  expect(total, `totalCount of ${JSON.stringify(filter)}`).toBe(ids.length);
  return ids;
}

/** A group's members (first 500) and its memberCount, checked against the connection's totalCount. */
export async function groupMembers(app: TestApp, token: string, groupId: string, filter?: Filter): Promise<{ ids: string[]; memberCount: number }> {
  type Group = { deviceGroup: { memberCount: number; members: { totalCount: number; edges: Array<{ node: { deviceId: string } }> } } | null };
  const data = await ok<Group>(app, token, GROUP_MEMBERS, { groupId, first: 500, filter });
  if (!data.deviceGroup) throw new Error(`no group ${groupId}`);
  const ids = data.deviceGroup.members.edges.map((edge) => edge.node.deviceId);
  expect(data.deviceGroup.members.totalCount).toBe(ids.length);
  return { ids, memberCount: data.deviceGroup.memberCount };
}

/** Validation issues of a query (not a mutation): a GraphQL error with code VALIDATION_FAILED and its issues. */
export async function queryIssues(app: TestApp, token: string, query: string, variables: Record<string, unknown>): Promise<Issue[]> {
  const result = await app.gql(token, query, variables);
  const error = result.errors?.[0];
  expect(error?.extensions?.['code'], JSON.stringify(result)).toBe('VALIDATION_FAILED');
  return error!.extensions!['issues'] as Issue[];
}

let owner: pg.Pool | undefined;

/** SQL as the database owner (RLS does not apply): harness-only set-up, never how the app writes. */
export async function ownerSql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  owner ??= new pg.Pool({ connectionString: inject('database').ownerUrl, max: 2 });
  return (await owner.query(text, values)).rows as T[];
}

export async function closeOwnerSql(): Promise<void> {
  await owner?.end();
  owner = undefined;
}

/**
 * TEST HELPER, OWNER SQL: writes presence (status, last_seen_at) and the reported twin of devices
 * straight into device_state. The filter language reads exactly these columns; how devices get
 * there (MQTT status, heartbeats, twin reports) is tested by the connectivity and twin modules.
 * Nothing is published: reads are live, so the next read sees the change without any event.
 */
export async function setDeviceStateDirectly(
  tenantId: string,
  rows: ReadonlyArray<{ deviceId: string; status?: string; lastSeenAt?: Date | null; reported?: unknown }>,
): Promise<void> {
  if (rows.length === 0) return;
  await ownerSql(
    `UPDATE device_state s SET
       status = COALESCE(v.status, s.status),
       last_seen_at = CASE WHEN v.set_seen THEN v.last_seen_at ELSE s.last_seen_at END,
       reported_state = COALESCE(v.reported, s.reported_state)
     FROM jsonb_to_recordset($2::jsonb) AS v(device_id text, status text, set_seen boolean, last_seen_at timestamptz, reported jsonb)
     WHERE s.tenant_id = $1 AND s.device_id = v.device_id`,
    [
      tenantId,
      JSON.stringify(
        rows.map((row) => ({
          device_id: row.deviceId,
          status: row.status ?? null,
          set_seen: row.lastSeenAt !== undefined,
          last_seen_at: row.lastSeenAt?.toISOString() ?? null,
          reported: row.reported ?? null,
        })),
      ),
    ],
  );
}

/** Presence timeouts of a month: the presence evaluator other test files run (with clocks ahead) must leave these devices as set. */
export async function keepPresence(app: TestApp, token: string): Promise<void> {
  await expectResult(
    app,
    token,
    `mutation($input: SetPresenceTimeoutsInput!) { setPresenceTimeouts(input: $input) { __typename } }`,
    { staleAfterSeconds: 2_500_000, offlineAfterSeconds: 2_592_000 },
    'SetPresenceTimeoutsPayload',
  );
}

export const sorted = (ids: Iterable<string>) => [...ids].sort();

/**
 * TEST HELPER, OWNER SQL: `count` devices `<prefix>-00001`… (with state rows and, optionally, a
 * tag) in one statement each, for tests about group sizes (1,000 IDs in one call, a page of a
 * large group). Registration through the API (credentials, events) is tested by the devices module.
 */
export async function seedDevicesDirectly(tenantId: string, prefix: string, count: number, tag?: { key: string; value: string }): Promise<string[]> {
  await ownerSql(`INSERT INTO tenants (tenant_id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [tenantId]);
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
  await ownerSql(`INSERT INTO device_registry (tenant_id, device_id, name) SELECT $1, id, id FROM unnest($2::text[]) AS id`, [tenantId, ids]);
  await ownerSql(`INSERT INTO device_state (tenant_id, device_id, status) SELECT $1, id, 'ONLINE' FROM unnest($2::text[]) AS id`, [tenantId, ids]);
  if (tag) await ownerSql(`INSERT INTO device_tags (tenant_id, device_id, key, value) SELECT $1, id, $3, $4 FROM unnest($2::text[]) AS id`, [tenantId, ids, tag.key, tag.value]);
  return ids;
}
