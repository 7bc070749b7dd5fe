import { describe, expect, test } from 'vitest';
import { ConfigError, DEVELOPMENT_JWT_SECRET } from '../../src/config.js';
import { loadPulseConfig } from '../../src/server.js';

describe('configuration', () => {
  test('no configuration is the embedded default with the development secret', () => {
    const config = loadPulseConfig({});
    expect(config.http.port).toBe(4000);
    expect(config.database).toEqual({ kind: 'pglite', dataDir: './data' });
    expect(config.mqtt).toEqual({ kind: 'embedded', port: 1883 });
    expect(config.auth).toEqual({ kind: 'secret', secret: DEVELOPMENT_JWT_SECRET, isDevelopmentSecret: true });
    expect(config.presence).toEqual({ staleAfterSeconds: 90, offlineAfterSeconds: 300, evaluatorIntervalMs: 10_000 });
  });

  test('presence timeouts must be ordered', () => {
    expect(() => loadPulseConfig({ PRESENCE_STALE_AFTER_SECONDS: '300', PRESENCE_OFFLINE_AFTER_SECONDS: '60' })).toThrow(/PRESENCE_OFFLINE_AFTER_SECONDS/);
    expect(loadPulseConfig({ PRESENCE_EVALUATOR_INTERVAL_MS: '2500' }).presence.evaluatorIntervalMs).toBe(2_500);
  });

  test('real infrastructure is selected by URLs', () => {
    const config = loadPulseConfig({
      DATABASE_URL: 'postgres://api@db/pulse',
      MQTT_URL: 'mqtt://broker:1883',
      MQTT_SHARED_GROUP: 'pulse',
      REDIS_URL: 'redis://redis:6379',
      JWT_SECRET: 's'.repeat(40),
    });
    expect(config.database).toMatchObject({ kind: 'postgres', url: 'postgres://api@db/pulse', migrationUrl: 'postgres://api@db/pulse', preparedStatements: true });
    expect(loadPulseConfig({ DATABASE_URL: 'postgres://api@db/pulse', DATABASE_PREPARED_STATEMENTS: 'false' }).database).toMatchObject({ preparedStatements: false });
    expect(config.mqtt).toMatchObject({ kind: 'external', url: 'mqtt://broker:1883', sharedGroup: 'pulse' });
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.auth).toMatchObject({ kind: 'secret', isDevelopmentSecret: false });
  });

  test('every bad variable is reported at once, by name', () => {
    let error: unknown;
    try {
      loadPulseConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', JWT_SECRET: 'short', LOG_LEVEL: 'loud', MQTT_SHARED_GROUP: 'a/b' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'JWT_SECRET', 'LOG_LEVEL', 'MQTT_SHARED_GROUP']) expect(issues).toContain(name);
  });

  test('production refuses to start on the development secret', () => {
    expect(() => loadPulseConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET or JWKS_URL/);
  });
});
