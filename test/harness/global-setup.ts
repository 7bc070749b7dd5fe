import type { TestProject } from 'vitest/node';
import { createMigratedDatabase, dropScratchDatabase, type ScratchDatabase } from './postgres.js';

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
  const database = await createMigratedDatabase();
  project.provide('database', database);
  return async () => {
    if (!process.env['KEEP_TEST_DATABASE']) await dropScratchDatabase(database);
  };
}
