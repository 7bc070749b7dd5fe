import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { applyMigrations } from '../../src/db/migrate.js';
import { connectPgExecutor } from '../../src/db/sql-executor.js';

/** Superuser connection to the local cluster; only the harness uses it, to create and drop. */
export const ADMIN_URL = process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  name: string;
  /** Owner (superuser) connection: migrations and harness-only inspection. */
  ownerUrl: string;
  /** A LOGIN role that is only a member of pulse_app: neither owner nor superuser, so RLS applies. */
  appUrl: string;
  appRole: string;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function urlFor(database: string, user = 'postgres', password?: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  url.username = user;
  if (password) url.password = password;
  return url.toString();
}

export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const client = new pg.Client({ connectionString: database ? urlFor(database) : ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database with a unique name, and a unique login role for the app. */
export async function createScratchDatabase(prefix = 'pulse_test'): Promise<ScratchDatabase> {
  const name = uniqueName(prefix);
  const appRole = `${name}_app`;
  const password = randomBytes(12).toString('hex');
  await withAdmin(async (client) => {
    await client.query(`CREATE DATABASE "${name}"`);
    await client.query(`CREATE ROLE "${appRole}" LOGIN PASSWORD '${password}' NOSUPERUSER NOBYPASSRLS`);
  });
  return { name, ownerUrl: urlFor(name), appUrl: urlFor(name, appRole, password), appRole };
}

/** A scratch database with every migration applied (as its owner) and its app role granted pulse_app. */
export async function createMigratedDatabase(prefix?: string): Promise<ScratchDatabase> {
  const database = await createScratchDatabase(prefix);
  const owner = await connectPgExecutor(database.ownerUrl);
  try {
    await applyMigrations(owner);
  } finally {
    await owner.close();
  }
  await grantAppRole(database);
  return database;
}

/** After migrations created pulse_app: let the app's login role act as it. */
export async function grantAppRole(database: ScratchDatabase): Promise<void> {
  await withAdmin(async (client) => {
    await client.query(`GRANT pulse_app TO "${database.appRole}"`);
    await client.query(`GRANT CONNECT ON DATABASE "${database.name}" TO "${database.appRole}"`);
  });
}

export async function dropScratchDatabase(database: Pick<ScratchDatabase, 'name' | 'appRole'>): Promise<void> {
  await withAdmin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${database.name}" WITH (FORCE)`);
    await client.query(`DROP ROLE IF EXISTS "${database.appRole}"`);
  });
}
