import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { mintToken } from '../../src/auth/jwt.js';
import type { Config } from '../../src/config.js';
import type { Role } from '../../src/db/tenant-session.js';
import { createLogger } from '../../src/logger.js';
import { loadPulseConfig, startPulse, type RunningPulse, type StartOptions } from '../../src/server.js';
import { startMosquitto, type OwnMosquitto } from './mosquitto.js';
import type { TypedOperation } from './operations.js';
import { uniqueName } from './postgres.js';

export const TEST_JWT_SECRET = 'pulse-test-secret-0123456789abcdef0123456789';
/** Set to run every test app against one external broker instead of a private Mosquitto each. */
const SHARED_MQTT_URL = process.env['TEST_MQTT_URL'];

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export interface TestApp {
  pulse: RunningPulse;
  config: Config;
  port: number;
  /** The broker this app ingests from; device clients connect here. */
  mqttUrl: string;
  /** In-process request through yoga, as a client would send it over HTTP. */
  gql<T = Record<string, unknown>, V = Record<string, unknown>>(token: string | null, query: TypedOperation<T, V> | string, variables?: V): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/**
 * Starts the real server on the run's database (as the RLS-bound app role) and the real broker,
 * on a free port. `env` overrides configuration the way an operator would. Periodic workers do
 * not run on timers unless asked: tests drive them with `pulse.app.workers.runAllOnce(now)`.
 */
export async function startTestApp(env: Record<string, string> = {}, options: StartOptions = { autoStartWorkers: false }): Promise<TestApp> {
  const database = inject('database');
  // An explicit MQTT_URL (own broker, or '' for the embedded one) wins; else a private Mosquitto.
  const mosquitto: OwnMosquitto | undefined = 'MQTT_URL' in env || SHARED_MQTT_URL ? undefined : await startMosquitto();
  const config = loadPulseConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: database.appUrl,
    MIGRATION_DATABASE_URL: database.ownerUrl,
    DATABASE_POOL_SIZE: '4',
    MQTT_URL: SHARED_MQTT_URL ?? mosquitto?.url ?? '',
    MQTT_CLIENT_ID: uniqueName('pulse-test'),
    JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_PER_MINUTE: '100000',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  });
  let pulse: RunningPulse;
  try {
    pulse = await startPulse(config, createLogger(config.logLevel), options);
  } catch (error) {
    await mosquitto?.dispose();
    throw error;
  }
  return {
    pulse,
    config,
    port: pulse.port,
    mqttUrl: config.mqtt.kind === 'external' ? config.mqtt.url : pulse.broker!.url,
    gql: inProcessGraphQL(pulse),
    async stop() {
      await pulse.stop();
      await mosquitto?.dispose();
    },
  };
}

/**
 * The embedded default as `npm start` runs it: PGlite (PostgreSQL in WebAssembly) in a fresh data
 * directory and the embedded broker (Aedes, per-device credentials and ACL). `stop` removes the
 * directory too.
 */
export async function startEmbeddedTestApp(dataDirPrefix: string, options: StartOptions = { autoStartWorkers: false }): Promise<TestApp> {
  const dataDir = await mkdtemp(path.join(tmpdir(), dataDirPrefix));
  const config = loadPulseConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, MQTT_PORT: '0', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
  let pulse: RunningPulse;
  try {
    pulse = await startPulse(config, createLogger('silent'), options);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    pulse,
    config,
    port: pulse.port,
    mqttUrl: pulse.broker!.url,
    gql: inProcessGraphQL(pulse),
    async stop() {
      await pulse.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function inProcessGraphQL(pulse: RunningPulse): TestApp['gql'] {
  return async (token, query, variables) => {
    const response = await pulse.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<never>;
  };
}

/** A token for the test secret. */
export function tokenFor(tenantId: string, role: Role = 'customer', subject = `user@${tenantId}`): Promise<string> {
  return mintToken(TEST_JWT_SECRET, { tenantId, role, subject });
}
