// The GraphQL reads peer: PostGraphile v5 (Amber preset) on the bench's scratch database.
// Started by bench/graphql-reads.ts as a child process; reports its port over IPC.
//
// Fairness with Pulse: it connects as a LOGIN role that is only a member of pulse_app (so RLS
// applies), verifies the same HS256 JWT on every request, and sets the same transaction-local
// settings (app.tenant_id, app.role) from its claims: PostGraphile runs each request as
// `begin; select set_config(...); <query>; commit`.
import { createServer } from 'node:http';
import process from 'node:process';
import jwt from 'jsonwebtoken';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { makeJSONPgSmartTagsPlugin } from 'postgraphile/utils';

const connectionString = process.env.PEER_DATABASE_URL;
const secret = process.env.PEER_JWT_SECRET;
const poolSize = Number(process.env.PEER_POOL_SIZE ?? '10');
if (!connectionString || !secret) throw new Error('PEER_DATABASE_URL and PEER_JWT_SECRET are required');

// `device_connections` would become type DeviceConnection, which clashes with the generated
// connection type of `Device` (<Type>Connection): rename it here, not in our schema.
const SmartTags = makeJSONPgSmartTagsPlugin({
  version: 1,
  config: {
    class: {
      device_connections: { tags: { name: 'CarrierConnection' } },
    },
  },
});

function claimsOf(requestContext) {
  const header = requestContext.http?.getHeader('authorization') ?? '';
  const token = header.replace(/^Bearer\s+/i, '').trim();
  if (!token) throw new Error('Authentication required');
  const claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
  if (typeof claims !== 'object' || typeof claims.tenant_id !== 'string' || typeof claims.role !== 'string') {
    throw new Error('Invalid token claims');
  }
  return claims;
}

const preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [SmartTags],
  pgServices: [makePgService({ connectionString, schemas: ['public'], poolConfig: { max: poolSize } })],
  grafast: {
    context(requestContext) {
      const claims = claimsOf(requestContext);
      return { pgSettings: { 'app.tenant_id': claims.tenant_id, 'app.role': claims.role } };
    },
    explain: false,
  },
  grafserv: { graphiql: false, watch: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.keepAliveTimeout = 65_000;
await serv.addTo(server);
await pgl.getSchema();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
process.send?.({ type: 'ready', port });

async function shutdown() {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await pgl.release(); // releases the grafserv instance too
  process.exit(0);
}
process.on('message', (message) => {
  if (message && message.type === 'stop') void shutdown();
});
process.on('disconnect', () => void shutdown());
