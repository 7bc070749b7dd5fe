/**
 * Dynamic groups: the first page of a dynamic group (50 members with status and tags) out of a
 * tenant of 10,000 devices, Pulse vs PostGraphile v5 on the same database and the same SQL
 * condition, RLS on for both, autocannon with the reads suite's connections and duration.
 *
 * The group's tenant is seeded here (as the owner, set-based) so its size does not depend on
 * BENCH_DEVICES. Pulse pages `deviceGroup(groupId) { members(first: 50) }`; PostGraphile pages a
 * SQL function whose WHERE is the membership condition Pulse itself compiles for the group's
 * filter (groups/membership.ts, compiled in this process and inlined as literals), so both run the
 * same predicate; the two answers are compared row by row before the load.
 * Knob: BENCH_GROUP_DEVICES (10,000).
 */
import autocannon, { type Result } from 'autocannon';
import { mintToken } from '../src/auth/jwt.js';
import type { Prisma } from '../src/generated/prisma/client.js';
import { storeDeviceFilter, parseDeviceFilter } from '../src/modules/devices/filter.js';
import { groupMembershipSql } from '../src/modules/groups/membership.js';
import { pulseModules } from '../src/modules/index.js';
import { composeModules } from '../src/platform/compose.js';
import type { TenantSession } from '../src/db/tenant-session.js';
import type { BenchContext } from './context.js';
import { startPeer } from './graphql-reads.js';
import { graphqlClient } from './lib/graphql.js';
import type { Figure, Row } from './report.js';
import { withClient } from './setup.js';

const TENANT = 'bench-groups';
const PAGE = 50;
/** About a sixth of the fleet: ONLINE (a third) and tier-1 (a half). */
const FILTER = { status: ['ONLINE'], tags: [{ key: 'tier', value: 'tier-1' }] };

function int(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** The group's tenant: `devices` devices with state, three tags and a carrier connection each, like the main seed. */
async function seedTenant(ownerUrl: string, devices: number): Promise<void> {
  await withClient(ownerUrl, async (client) => {
    await client.query('BEGIN');
    await client.query(`INSERT INTO tenants (tenant_id, name) VALUES ($1, 'Bench groups tenant')`, [TENANT]);
    const series = `FROM generate_series(1, $2::int) AS i`;
    const deviceId = `'grp-' || lpad(i::text, 5, '0')`;
    await client.query(`INSERT INTO device_registry (tenant_id, device_id, name, model) SELECT $1, ${deviceId}, 'Gateway ' || i, 'GW-' || (i % 4) ${series}`, [TENANT, devices]);
    await client.query(
      `INSERT INTO device_state (tenant_id, device_id, status, last_seen_at)
       SELECT $1, ${deviceId}, (ARRAY['ONLINE', 'STALE', 'OFFLINE'])[1 + i % 3], now() - (i % 600) * interval '1 second' ${series}`,
      [TENANT, devices],
    );
    await client.query(
      `INSERT INTO device_tags (tenant_id, device_id, key, value)
       SELECT $1, ${deviceId}, t.key, t.value || (i % t.modulo) ${series}
       CROSS JOIN (VALUES ('env', 'env-', 3), ('region', 'region-', 7), ('tier', 'tier-', 2)) AS t(key, value, modulo)`,
      [TENANT, devices],
    );
    await client.query(
      `INSERT INTO device_connections (tenant_id, device_id, connection_type, carrier_name, sim_status, network_status)
       SELECT $1, ${deviceId}, 'cellular', (ARRAY['Telia', 'Vodafone', 'Orange'])[1 + i % 3], 'active', 'connected' ${series}`,
      [TENANT, devices],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE');
  });
}

/** A SQL literal for one value of a compiled condition (strings, numbers, booleans and text arrays are all a filter compiles to here). */
function literal(value: unknown): string {
  const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return quote(`{${value.map((item) => `"${item.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
  throw new Error(`no literal for ${JSON.stringify(value)}`);
}

/** Pulse's membership condition for FILTER, over `device_registry d`, with its parameters inlined. */
async function membershipCondition(): Promise<string> {
  composeModules(pulseModules); // installs every module's filter terms
  const stored = storeDeviceFilter(parseDeviceFilter(FILTER, ['filter']));
  // No term of FILTER reads the database while compiling (only groupId would), so no session is needed.
  const sql: Prisma.Sql = await groupMembershipSql(null as unknown as TenantSession, { tenantId: TENANT, groupId: 'bench', groupType: 'dynamic', queryFilter: stored });
  return sql.strings.reduce((text, part, index) => text + part + (index < sql.values.length ? literal(sql.values[index]) : ''), '');
}

async function load(ctx: BenchContext, port: number, token: string, query: string, seconds: number): Promise<Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}/graphql`,
    connections: ctx.options.reads.connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
    timeout: 30,
  });
}

function figureOf(result: Result): Figure {
  const failed = result.non2xx + result.errors + result.timeouts;
  return {
    value: result.requests.total / result.duration,
    unit: 'req/s',
    detail: `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.requests.total} requests in ${result.duration.toFixed(1)} s${failed ? `, ${failed} failed` : ''}`,
  };
}

type Normalised = Array<{ deviceId: string; name: string; status: string; tags: string[] }>;
type PulsePage = { deviceGroup: { members: { edges: Array<{ node: { deviceId: string; name: string; status: string; tags: Array<{ key: string; value: string }> } }> } } | null };
type PeerPage = {
  benchGroupMembers: {
    edges: Array<{ node: { deviceId: string; name: string; deviceStateByTenantIdAndDeviceId: { status: string } | null; deviceTagsByTenantIdAndDeviceId: { nodes: Array<{ key: string; value: string }> } } }>;
  };
};

export async function runGroups(ctx: BenchContext): Promise<Row[]> {
  const { reads } = ctx.options;
  const devices = int('BENCH_GROUP_DEVICES', 10_000);
  ctx.log(`groups: seeding tenant ${TENANT} with ${devices} devices…`);
  await seedTenant(ctx.db.ownerUrl, devices);
  const token = await mintToken(ctx.jwtSecret, { tenantId: TENANT, role: 'customer', subject: `bench@${TENANT}` }, '2h');

  const pulseClient = graphqlClient(ctx.pulse.port, token);
  type Created = { createDynamicDeviceGroup: { __typename: string; group?: { groupId: string; memberCount: number } } };
  const created = await pulseClient.request<Created>(
    `mutation($input: CreateDynamicDeviceGroupInput!) { createDynamicDeviceGroup(input: $input) { __typename ... on CreateDynamicDeviceGroupPayload { group { groupId memberCount } } } }`,
    { input: { name: 'bench online tier-1', queryFilter: FILTER } },
  );
  const group = created.data?.createDynamicDeviceGroup.group;
  if (!group) throw new Error(`createDynamicDeviceGroup failed: ${JSON.stringify(created)}`);

  // The peer's side: the same condition as a set-returning SQL function PostGraphile exposes
  // (STABLE, LANGUAGE sql: PostgreSQL inlines it into PostGraphile's query). RLS applies inside.
  const condition = await membershipCondition();
  await withClient(ctx.db.ownerUrl, (client) =>
    client.query(`CREATE FUNCTION bench_group_members() RETURNS SETOF device_registry LANGUAGE sql STABLE AS $body$
      SELECT d.* FROM device_registry d
      WHERE d.tenant_id = app_tenant_id() AND d.decommissioned_at IS NULL AND ${condition}
      ORDER BY d.tenant_id, d.device_id
    $body$`),
  );

  const pulseQuery = `query BenchGroup { deviceGroup(groupId: "${group.groupId}") { members(first: ${PAGE}) { edges { node { deviceId name status tags { key value } } } } } }`;
  const peerQuery = `query BenchGroup { benchGroupMembers(first: ${PAGE}) { edges { node { deviceId name deviceStateByTenantIdAndDeviceId { status } deviceTagsByTenantIdAndDeviceId(orderBy: PRIMARY_KEY_ASC) { nodes { key value } } } } } }`;
  const notes = [
    `${reads.connections} connections, ${reads.seconds} s each after ${reads.warmupSeconds} s warm-up; first ${PAGE} of ${group.memberCount} members of a dynamic group ` +
      `(${JSON.stringify(FILTER)}) out of ${devices} devices, with status and 3 tags; RLS on for both`,
    `PostGraphile pages bench_group_members(), a SQL function whose WHERE is Pulse's compiled membership condition: ${condition.replace(/\s+/g, ' ')}`,
  ];

  ctx.log('groups: starting the PostGraphile peer…');
  const peer = await startPeer(ctx);
  try {
    const peerClient = graphqlClient(peer.port, token);
    try {
      const ours = await pulseClient.request<PulsePage>(pulseQuery);
      const theirs = await peerClient.request<PeerPage>(peerQuery);
      if (!ours.data?.deviceGroup || ours.errors) throw new Error(`pulse query failed: ${JSON.stringify(ours.errors)}`);
      if (!theirs.data || theirs.errors) throw new Error(`postgraphile query failed: ${JSON.stringify(theirs.errors)}`);
      const a: Normalised = ours.data.deviceGroup.members.edges.map(({ node }) => ({ deviceId: node.deviceId, name: node.name, status: node.status, tags: node.tags.map((t) => `${t.key}=${t.value}`) }));
      const b: Normalised = theirs.data.benchGroupMembers.edges.map(({ node }) => ({
        deviceId: node.deviceId,
        name: node.name,
        status: node.deviceStateByTenantIdAndDeviceId?.status ?? 'OFFLINE',
        tags: node.deviceTagsByTenantIdAndDeviceId.nodes.map((t) => `${t.key}=${t.value}`),
      }));
      if (a.length !== PAGE || a.some((device) => device.status !== 'ONLINE' || !device.tags.includes('tier=tier-1'))) {
        throw new Error(`pulse returned ${a.length} members, expected ${PAGE} ONLINE tier-1 ones`);
      }
      notes.push(JSON.stringify(a) === JSON.stringify(b) ? `both servers returned the same ${PAGE} rows (checked before the load)` : 'WARNING: the two servers did not return the same rows for the page');
    } finally {
      peerClient.close();
    }
    ctx.log(`groups: pulse (${reads.warmupSeconds} s warm-up + ${reads.seconds} s)…`);
    await load(ctx, ctx.pulse.port, token, pulseQuery, reads.warmupSeconds);
    const pulse = await load(ctx, ctx.pulse.port, token, pulseQuery, reads.seconds);
    ctx.log(`groups: postgraphile (${reads.warmupSeconds} s warm-up + ${reads.seconds} s)…`);
    await load(ctx, peer.port, token, peerQuery, reads.warmupSeconds);
    const other = await load(ctx, peer.port, token, peerQuery, reads.seconds);
    return [{ suite: 'groups', title: 'Dynamic group page', pulse: figureOf(pulse), referenceName: 'postgraphile', reference: figureOf(other), notes }];
  } finally {
    pulseClient.close();
    await peer.stop();
  }
}
