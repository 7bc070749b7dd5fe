import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../src/db/migrate.js';
import { connectPgExecutor } from '../../src/db/sql-executor.js';
import { createScratchDatabase, dropScratchDatabase, grantAppRole, type ScratchDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    database: ScratchDatabase;
  }
}

/**
 * One fresh, uniquely named database per test run, migrated as its owner; tests connect as a
 * login role that is only a member of pulse_app, so RLS really applies. Tests share it and keep
 * apart by creating their own tenants.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await createScratchDatabase();
  const owner = await connectPgExecutor(database.ownerUrl);
  try {
    await applyMigrations(owner);
  } finally {
    await owner.close();
  }
  await grantAppRole(database);
  project.provide('database', database);
  return async () => {
    if (!process.env['KEEP_TEST_DATABASE']) await dropScratchDatabase(database);
  };
}
