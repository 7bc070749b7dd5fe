import type { BenchChild } from './lib/child.js';
import type { Schema } from './lib/graphql.js';
import type { BenchOptions } from './options.js';
import type { BenchDatabase } from './setup.js';

/** What every suite gets: the seeded database, the running Pulse and limits processes, a token. */
export interface BenchContext {
  options: BenchOptions;
  db: BenchDatabase;
  jwtSecret: string;
  /** Customer token of the seeded tenant. */
  token: string;
  pulse: BenchChild;
  /** Pulse's schema, introspected at start: suites adapt to fields that exist or not yet. */
  schema: Schema;
  limits: BenchChild;
  brokerUrl: string;
  brokerDescription: string;
  /** Progress lines while the run goes on. */
  log(message: string): void;
}
