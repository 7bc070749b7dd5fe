/**
 * Login flood (issue 14, class 8): GraphQL latency while the embedded broker is hammered with
 * bad CONNECTs. A Pulse of its own (embedded broker, same database) answers a small query from a
 * few concurrent loops, first undisturbed, then while 100 MQTT clients keep connecting with a
 * wrong password (each reconnects as soon as it is refused). Password checks are bounded in the
 * broker (half the cores at once, 16 per check waiting, the rest refused at once), so the p99 under the flood should stay
 * within a small factor of the quiet one instead of growing to seconds.
 */
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchContext } from './context.js';
import { startChild } from './lib/child.js';
import { graphqlClient } from './lib/graphql.js';
import type { Row } from './report.js';

const FLOODERS = 100;
const LOOPS = 4;
const PHASE_MS = 4_000;
const QUERY = '{ devices(first: 10) { totalCount edges { node { deviceId } } } }';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

/** Latencies (ms) of QUERY from LOOPS loops for `ms`. */
async function measure(port: number, token: string, ms: number): Promise<number[]> {
  const client = graphqlClient(port, token);
  const latencies: number[] = [];
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: LOOPS }, async () => {
      while (Date.now() < until) {
        const started = performance.now();
        await client.request(QUERY);
        latencies.push(performance.now() - started);
      }
    }),
  );
  client.close();
  return latencies.sort((a, b) => a - b);
}

/** 100 clients that CONNECT with a wrong password again and again until stopped; counts refusals. */
function flood(url: string, tenantId: string): { stop(): Promise<void>; refusals: () => number } {
  let running = true;
  let refusals = 0;
  const clients: MqttClient[] = [];
  for (let i = 0; i < FLOODERS; i++) {
    const attempt = () => {
      if (!running) return;
      const client = mqtt.connect(url, { clientId: `${tenantId}/flood-${i}`, username: `${tenantId}/flood-${i}`, password: 'wrong', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
      clients.push(client);
      client.once('error', () => undefined);
      client.once('close', () => {
        refusals += 1;
        client.end(true);
        setImmediate(attempt);
      });
    };
    attempt();
  }
  return {
    refusals: () => refusals,
    async stop() {
      running = false;
      await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    },
  };
}

export async function runLoginFlood(ctx: BenchContext): Promise<Row[]> {
  const mqttPort = await freePort();
  ctx.log('login flood: starting a Pulse with the embedded broker…');
  const pulse = await startChild({
    name: 'pulse-embedded',
    script: fileURLToPath(new URL('./pulse-server.ts', import.meta.url)),
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: ctx.db.appUrl,
      MIGRATION_DATABASE_URL: ctx.db.ownerUrl,
      DATABASE_POOL_SIZE: String(ctx.options.poolSize),
      MQTT_PORT: String(mqttPort),
      JWT_SECRET: ctx.jwtSecret,
      RATE_LIMIT_PER_MINUTE: '1000000000',
      LOG_LEVEL: 'silent',
    },
  });
  try {
    await measure(pulse.port, ctx.token, 1_000); // warm-up
    const quiet = await measure(pulse.port, ctx.token, PHASE_MS);
    ctx.log(`login flood: ${FLOODERS} clients connecting with a wrong password…`);
    const flooding = flood(`mqtt://127.0.0.1:${mqttPort}`, ctx.db.tenantId);
    const loud = await measure(pulse.port, ctx.token, PHASE_MS);
    const refused = flooding.refusals();
    await flooding.stop();
    const seconds = PHASE_MS / 1000;
    const detail = (latencies: number[]) => `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`;
    return [
      {
        suite: 'login-flood',
        title: `GraphQL during ${FLOODERS} concurrent bad MQTT logins (embedded broker)`,
        pulse: { value: loud.length / seconds, unit: 'req/s', detail: `${detail(loud)}; ${Math.round(refused / seconds)} logins refused/s` },
        referenceName: 'the same Pulse, no flood',
        reference: { value: quiet.length / seconds, unit: 'req/s', detail: detail(quiet) },
        notes: [`${LOOPS} query loops; password checks bounded (half the cores at once, 16 per check queued), beyond that refused with SERVER_UNAVAILABLE`],
      },
    ];
  } finally {
    await pulse.stop();
  }
}
