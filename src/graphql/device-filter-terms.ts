/**
 * What other modules add to the one device filter language (`DeviceFilter`, owned by the devices
 * module) and to fleet summaries: a module that knows a device's presence, connection, twin or
 * groups contributes the terms and dimensions about them. Every term compiles to a SQL condition
 * over `device_registry` (aliased `d`), so device lists, dynamic groups, fleet summaries,
 * subscriptions and group commands all evaluate a filter in the database, never in memory.
 * Installed once by the module composition, before the schema is built.
 */
import type { z } from 'zod';
import type { Prisma } from '../generated/prisma/client.js';
import type { TenantSession } from '../db/tenant-session.js';
import type { builder } from './builder.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
export type FilterFieldBuilder = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

/** What a change to a device can touch; a term names the ones that can change its outcome. */
export type DeviceAspect = 'registry' | 'tags' | 'presence' | 'connection' | 'twin' | 'groups';

export interface FilterSqlContext {
  /** The `device_registry` row the condition is about. */
  device: Prisma.Sql;
  session: TenantSession;
  /** The tenant whose devices are filtered. */
  tenantId: string;
  /** Compiles a nested filter (a stored one: a dynamic group's), already validated. */
  compileNested(filter: unknown, path: string[]): Promise<Prisma.Sql>;
  /** Group IDs being resolved right now, outermost first: a term referring to one of them is a cycle. */
  resolving: readonly string[];
}

export interface DeviceFilterTerm {
  /** The `DeviceFilter` field name; unique across modules. */
  field: string;
  /** Validates the value (after GraphQL or from stored JSON); nullish means the term is unused. */
  schema: z.ZodType;
  /** Declares the input field. */
  input(t: FilterFieldBuilder): PothosSchemaTypes.InputFieldRef<Types, unknown>;
  /** The SQL condition for a validated, non-null value. */
  sql(value: never, context: FilterSqlContext): Prisma.Sql | Promise<Prisma.Sql>;
  /** Which changes of a device can change whether it matches (membership events use this). */
  dependsOn: readonly DeviceAspect[];
}

/** A `fleetSummary` dimension: a SQL expression over `d` whose value names the bucket. */
export interface DeviceDimension {
  /** The `FleetDimension` enum value (UPPER_CASE). */
  name: string;
  description: string;
  /** A text expression for the row `d`; `tagKey` is given for dimensions that need one. */
  sql(device: Prisma.Sql, tagKey: string | null): Prisma.Sql;
  /** Needs `tagKey` (the value of a named tag). */
  needsTagKey?: boolean;
}

let installedTerms: readonly DeviceFilterTerm[] = [];
let installedDimensions: readonly DeviceDimension[] = [];

function unique(kind: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new TypeError(`${kind} ${name} is contributed twice`);
    seen.add(name);
  }
}

/** Called by the module composition; the DeviceFilter input and FleetDimension enum read these when the schema is built. */
export function installDeviceFilterTerms(terms: readonly DeviceFilterTerm[], dimensions: readonly DeviceDimension[] = []): void {
  unique('DeviceFilter field', terms.map((term) => term.field));
  unique('fleet dimension', dimensions.map((dimension) => dimension.name));
  installedTerms = terms;
  installedDimensions = dimensions;
}

export function contributedDeviceFilterTerms(): readonly DeviceFilterTerm[] {
  return installedTerms;
}

export function contributedDeviceDimensions(): readonly DeviceDimension[] {
  return installedDimensions;
}

/** Declares a term with its value type inferred from its schema. */
export function defineFilterTerm<S extends z.ZodType>(term: {
  field: string;
  schema: S;
  input: DeviceFilterTerm['input'];
  sql(value: NonNullable<z.output<S>>, context: FilterSqlContext): Prisma.Sql | Promise<Prisma.Sql>;
  dependsOn: readonly DeviceAspect[];
}): DeviceFilterTerm {
  return term as unknown as DeviceFilterTerm;
}
