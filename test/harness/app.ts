import { inject } from 'vitest';
import { mintToken } from '../../src/auth/jwt.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Role } from '../../src/db/tenant-session.js';
import { createLogger } from '../../src/logger.js';
import { startPulse, type RunningPulse, type StartOptions } from '../../src/server.js';
import { uniqueName } from './postgres.js';

export const TEST_JWT_SECRET = 'pulse-test-secret-0123456789abcdef0123456789';
export const MQTT_URL = process.env['TEST_MQTT_URL'] ?? 'mqtt://127.0.0.1:1883';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export interface TestApp {
  pulse: RunningPulse;
  config: Config;
  port: number;
  /** In-process request through yoga, as a client would send it over HTTP. */
  gql<T = Record<string, unknown>>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/**
 * Starts the real server on the run's database (as the RLS-bound app role) and the real broker,
 * on a free port. `env` overrides configuration the way an operator would. Periodic workers do
 * not run on timers unless asked: tests drive them with `pulse.app.workers.runAllOnce(now)`.
 */
export async function startTestApp(env: Record<string, string> = {}, options: StartOptions = { autoStartWorkers: false }): Promise<TestApp> {
  const database = inject('database');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: database.appUrl,
    MIGRATION_DATABASE_URL: database.ownerUrl,
    DATABASE_POOL_SIZE: '4',
    MQTT_URL,
    MQTT_CLIENT_ID: uniqueName('pulse-test'),
    JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_PER_MINUTE: '100000',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  });
  const pulse = await startPulse(config, createLogger(config.logLevel), options);
  return {
    pulse,
    config,
    port: pulse.port,
    async gql(token, query, variables) {
      const response = await pulse.app.yoga.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse<never>;
    },
    stop: () => pulse.stop(),
  };
}

/** A token for the test secret. */
export function tokenFor(tenantId: string, role: Role = 'customer', subject = `user@${tenantId}`): Promise<string> {
  return mintToken(TEST_JWT_SECRET, { tenantId, role, subject });
}
