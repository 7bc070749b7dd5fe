/**
 * GraphQL reads: Pulse vs PostGraphile v5 on the same database and the same rows. One page of
 * 50 devices with status, tags and (once Pulse has `Device.connection`) the carrier connection,
 * RLS on for both, autocannon with the same connections and duration against each in turn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import type { BenchContext } from './context.js';
import { startChild, type BenchChild } from './lib/child.js';
import { graphqlClient, namedType, type GraphQLResponse } from './lib/graphql.js';
import type { Row } from './report.js';

const PEER_DIR = fileURLToPath(new URL('./peer/', import.meta.url));
const CONNECTION_FIELDS = ['carrierName', 'simStatus', 'networkStatus'] as const;

/** The same rows, whichever server answered: compared field by field before the load starts. */
interface NormalisedDevice {
  deviceId: string;
  name: string;
  status: string;
  tags: string[];
  connection?: string[];
}

interface PulseDevices {
  devices: {
    edges: Array<{
      node: { deviceId: string; name: string; status: string; tags: Array<{ key: string; value: string }>; connection?: Record<string, string | null> | null };
    }>;
  };
}

interface PeerDevices {
  allDeviceRegistries: {
    edges: Array<{
      node: {
        deviceId: string;
        name: string;
        deviceStateByTenantIdAndDeviceId: { status: string } | null;
        deviceTagsByTenantIdAndDeviceId: { nodes: Array<{ key: string; value: string }> };
        carrierConnectionByTenantIdAndDeviceId?: Record<string, string | null> | null;
      };
    }>;
  };
}

/** Installs the peer's own node_modules on first use (never part of the root install). */
export function ensurePeerInstalled(log: (message: string) => void): void {
  if (existsSync(path.join(PEER_DIR, 'node_modules', 'postgraphile'))) return;
  const lock = existsSync(path.join(PEER_DIR, 'package-lock.json'));
  log(`installing the PostGraphile peer into bench/peer/node_modules (npm ${lock ? 'ci' : 'install'}, first run only)…`);
  const result = spawnSync('npm', [lock ? 'ci' : 'install', '--prefix', PEER_DIR, '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('npm install for bench/peer failed');
}

export async function startPeer(ctx: BenchContext): Promise<BenchChild> {
  ensurePeerInstalled(ctx.log);
  return startChild({
    name: 'postgraphile',
    script: path.join(PEER_DIR, 'server.mjs'),
    cwd: PEER_DIR,
    // Node 20: PostGraphile 5 needs Promise.withResolvers (Node 22+).
    execArgv: ['--no-deprecation', '--import', pathToFileURL(path.join(PEER_DIR, 'polyfill.mjs')).href],
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      GRAPHILE_ENV: 'production',
      PEER_DATABASE_URL: ctx.db.peerUrl,
      PEER_JWT_SECRET: ctx.jwtSecret,
      PEER_POOL_SIZE: String(ctx.options.poolSize),
    },
  });
}

function buildQueries(ctx: BenchContext) {
  const connection = ctx.schema.field('Device', 'connection');
  const connectionType = connection ? namedType(connection.type) : null;
  const fields = connectionType ? CONNECTION_FIELDS.filter((field) => ctx.schema.field(connectionType, field)) : [];
  const first = ctx.options.reads.pageSize;
  const pulse = `query BenchDevices { devices(first: ${first}) { edges { node { deviceId name status tags { key value }${
    fields.length ? ` connection { ${fields.join(' ')} }` : ''
  } } } } }`;
  const peer = `query BenchDevices { allDeviceRegistries(first: ${first}, orderBy: PRIMARY_KEY_ASC) { edges { node { deviceId name deviceStateByTenantIdAndDeviceId { status } deviceTagsByTenantIdAndDeviceId(orderBy: PRIMARY_KEY_ASC) { nodes { key value } }${
    fields.length ? ` carrierConnectionByTenantIdAndDeviceId { ${fields.join(' ')} }` : ''
  } } } } }`;
  return { pulse, peer, connectionFields: fields };
}

const connectionValues = (fields: readonly string[], row: Record<string, string | null> | null | undefined) =>
  fields.map((field) => String(row?.[field] ?? 'null').toLowerCase());

function normalisePulse(response: GraphQLResponse<PulseDevices>, fields: readonly string[]): NormalisedDevice[] {
  if (!response.data || response.errors) throw new Error(`pulse query failed: ${JSON.stringify(response.errors)}`);
  return response.data.devices.edges.map(({ node }) => ({
    deviceId: node.deviceId,
    name: node.name,
    status: node.status,
    tags: node.tags.map((tag) => `${tag.key}=${tag.value}`),
    ...(fields.length > 0 && { connection: connectionValues(fields, node.connection) }),
  }));
}

function normalisePeer(response: GraphQLResponse<PeerDevices>, fields: readonly string[]): NormalisedDevice[] {
  if (!response.data || response.errors) throw new Error(`postgraphile query failed: ${JSON.stringify(response.errors)}`);
  return response.data.allDeviceRegistries.edges.map(({ node }) => ({
    deviceId: node.deviceId,
    name: node.name,
    status: node.deviceStateByTenantIdAndDeviceId?.status ?? 'OFFLINE',
    tags: node.deviceTagsByTenantIdAndDeviceId.nodes.map((tag) => `${tag.key}=${tag.value}`),
    ...(fields.length > 0 && { connection: connectionValues(fields, node.carrierConnectionByTenantIdAndDeviceId) }),
  }));
}

async function load(ctx: BenchContext, port: number, query: string, seconds: number): Promise<Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}/graphql`,
    connections: ctx.options.reads.connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${ctx.token}` },
    body: JSON.stringify({ query }),
    timeout: 30,
  });
}

function figureOf(result: Result) {
  const failed = result.non2xx + result.errors + result.timeouts;
  return {
    value: result.requests.total / result.duration,
    unit: 'req/s',
    detail: `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.requests.total} requests in ${result.duration.toFixed(1)} s${
      failed ? `, ${failed} failed (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})` : ''
    }`,
  };
}

export async function runGraphQLReads(ctx: BenchContext): Promise<Row[]> {
  const { reads } = ctx.options;
  const queries = buildQueries(ctx);
  const notes = [
    `${reads.connections} connections, ${reads.seconds} s each after ${reads.warmupSeconds} s warm-up; first ${reads.pageSize} of ${ctx.db.deviceIds.length} devices` +
      ` with status, 3 tags${queries.connectionFields.length ? ` and connection { ${queries.connectionFields.join(' ')} }` : ''}; RLS on for both`,
  ];
  if (!queries.connectionFields.length) {
    notes.push('Device.connection is not in Pulse’s schema yet: both servers were queried without the connection (issue 4)');
  }
  ctx.log('GraphQL reads: starting the PostGraphile peer…');
  const peer = await startPeer(ctx);
  try {
    const pulseClient = graphqlClient(ctx.pulse.port, ctx.token);
    const peerClient = graphqlClient(peer.port, ctx.token);
    try {
      const ours = normalisePulse(await pulseClient.request<PulseDevices>(queries.pulse), queries.connectionFields);
      const theirs = normalisePeer(await peerClient.request<PeerDevices>(queries.peer), queries.connectionFields);
      if (ours.length !== reads.pageSize || ours.some((device) => device.tags.length !== 3)) {
        throw new Error(`pulse returned ${ours.length} devices, expected ${reads.pageSize} with 3 tags each`);
      }
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        notes.push('WARNING: the two servers did not return the same rows for the page');
      } else {
        notes.push('both servers returned the same 50 rows (checked before the load)');
      }
    } finally {
      pulseClient.close();
      peerClient.close();
    }
    ctx.log(`GraphQL reads: pulse (${reads.warmupSeconds} s warm-up + ${reads.seconds} s)…`);
    await load(ctx, ctx.pulse.port, queries.pulse, reads.warmupSeconds);
    const pulse = await load(ctx, ctx.pulse.port, queries.pulse, reads.seconds);
    ctx.log(`GraphQL reads: postgraphile (${reads.warmupSeconds} s warm-up + ${reads.seconds} s)…`);
    await load(ctx, peer.port, queries.peer, reads.warmupSeconds);
    const other = await load(ctx, peer.port, queries.peer, reads.seconds);
    return [
      {
        suite: 'reads',
        title: 'GraphQL reads',
        pulse: figureOf(pulse),
        referenceName: 'postgraphile',
        reference: figureOf(other),
        notes,
      },
    ];
  } finally {
    await peer.stop();
  }
}
