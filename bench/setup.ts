/**
 * The bench's scratch database: created, migrated and seeded for one run, dropped at the end.
 * Same shape as test/harness/postgres.ts: migrations run as the owner (superuser); Pulse and the
 * PostGraphile peer each connect as their own LOGIN role that is only a member of pulse_app, so
 * row-level security applies to both.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { applyMigrations } from '../src/db/migrate.js';
import { connectPgExecutor } from '../src/db/sql-executor.js';

export interface BenchDatabase {
  name: string;
  /** Superuser connection to the scratch database: migrations, seeding, inspection. */
  ownerUrl: string;
  /** Pulse's login role (member of pulse_app). */
  appUrl: string;
  /** The peer's login role (member of pulse_app). */
  peerUrl: string;
  roles: string[];
  tenantId: string;
  /** Seeded device IDs, in primary-key order. */
  deviceIds: string[];
}

function urlFor(adminUrl: string, database: string, user?: string, password?: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  if (user) url.username = user;
  if (password) url.password = password;
  return url.toString();
}

export async function withClient<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function deviceIdOf(index: number): string {
  return `dev-${String(index).padStart(5, '0')}`;
}

/** Creates the database and two login roles, applies the migrations, seeds one tenant. */
export async function createBenchDatabase(adminUrl: string, devices: number): Promise<BenchDatabase> {
  const name = `pulse_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const appRole = `${name}_app`;
  const peerRole = `${name}_peer`;
  const appPassword = randomBytes(12).toString('hex');
  const peerPassword = randomBytes(12).toString('hex');
  await withClient(adminUrl, async (client) => {
    await client.query(`CREATE DATABASE "${name}"`);
    await client.query(`CREATE ROLE "${appRole}" LOGIN PASSWORD '${appPassword}' NOSUPERUSER NOBYPASSRLS`);
    await client.query(`CREATE ROLE "${peerRole}" LOGIN PASSWORD '${peerPassword}' NOSUPERUSER NOBYPASSRLS`);
  });
  const database: BenchDatabase = {
    name,
    ownerUrl: urlFor(adminUrl, name),
    appUrl: urlFor(adminUrl, name, appRole, appPassword),
    peerUrl: urlFor(adminUrl, name, peerRole, peerPassword),
    roles: [appRole, peerRole],
    tenantId: 'bench-tenant',
    deviceIds: Array.from({ length: devices }, (_, i) => deviceIdOf(i + 1)),
  };
  try {
    const owner = await connectPgExecutor(database.ownerUrl);
    try {
      await applyMigrations(owner);
    } finally {
      await owner.close();
    }
    await withClient(adminUrl, async (client) => {
      for (const role of database.roles) {
        await client.query(`GRANT pulse_app TO "${role}"`);
        await client.query(`GRANT CONNECT ON DATABASE "${name}" TO "${role}"`);
      }
    });
    await seed(database.ownerUrl, database.tenantId, devices);
  } catch (error) {
    await dropBenchDatabase(adminUrl, database).catch(() => undefined);
    throw error;
  }
  return database;
}

/**
 * One tenant × `devices` devices, each with its state row, one carrier connection and three tags;
 * written as the owner (superuser, so RLS does not filter the seed) in set-based SQL.
 */
async function seed(ownerUrl: string, tenantId: string, devices: number): Promise<void> {
  await withClient(ownerUrl, async (client) => {
    await client.query('BEGIN');
    await client.query(`INSERT INTO tenants (tenant_id, name) VALUES ($1, 'Bench tenant')`, [tenantId]);
    const series = `FROM generate_series(1, $2::int) AS i`;
    const deviceId = `'dev-' || lpad(i::text, 5, '0')`;
    await client.query(
      `INSERT INTO device_registry (tenant_id, device_id, name, model, firmware_version, serial_number, metadata)
       SELECT $1, ${deviceId}, 'Gateway ' || i, 'GW-' || (i % 4), '2.' || (i % 10) || '.1', 'SN' || lpad(i::text, 8, '0'),
              jsonb_build_object('rack', i % 40)
       ${series}`,
      [tenantId, devices],
    );
    await client.query(
      `INSERT INTO device_state (tenant_id, device_id, status, last_seen_at, desired_state, reported_state)
       SELECT $1, ${deviceId}, (ARRAY['ONLINE', 'STALE', 'OFFLINE'])[1 + i % 3], now() - (i % 600) * interval '1 second',
              '{"config": {"interval": 60}}', '{"config": {"interval": 60}}'
       ${series}`,
      [tenantId, devices],
    );
    await client.query(
      `INSERT INTO device_tags (tenant_id, device_id, key, value)
       SELECT $1, ${deviceId}, t.key, t.value || (i % t.modulo)
       ${series}
       CROSS JOIN (VALUES ('env', 'env-', 3), ('region', 'region-', 7), ('tier', 'tier-', 2)) AS t(key, value, modulo)`,
      [tenantId, devices],
    );
    await client.query(
      `INSERT INTO device_connections (tenant_id, device_id, connection_type, carrier_name, plan_name, apn, sim_iccid,
                                       sim_status, data_limit_mb, data_used_mb, network_status, ip_address)
       SELECT $1, ${deviceId}, 'cellular', (ARRAY['Telia', 'Vodafone', 'Orange'])[1 + i % 3], 'IoT 1GB', 'iot.example',
              '8946' || lpad(i::text, 15, '0'), (ARRAY['active', 'suspended', 'ready'])[1 + i % 3], 1024, i % 1024,
              (ARRAY['connected', 'disconnected', 'unknown'])[1 + i % 3], ('10.' || (i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256))::inet
       ${series}`,
      [tenantId, devices],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE');
  });
}

export async function dropBenchDatabase(adminUrl: string, database: Pick<BenchDatabase, 'name' | 'roles'>): Promise<void> {
  await withClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${database.name}" WITH (FORCE)`);
    for (const role of database.roles) await client.query(`DROP ROLE IF EXISTS "${role}"`);
  });
}
