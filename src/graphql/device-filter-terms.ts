/**
 * Fields other modules add to the `DeviceFilter` input (the devices module owns the input and the
 * list; a module that knows a device's connection, twin or groups contributes the terms about
 * them). Installed once by the module composition, before the schema is built.
 */
import type { z } from 'zod';
import type { Prisma } from '../generated/prisma/client.js';
import type { TenantScope } from '../kernel/scope.js';
import type { builder } from './builder.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
export type FilterFieldBuilder = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

export interface DeviceFilterTerm {
  /** The `DeviceFilter` field name; unique across modules. */
  field: string;
  /** Validates the value (nullish: the term is not used); issues are reported under `filter.<field>`. */
  schema: z.ZodType;
  /** Declares the input field. */
  input(t: FilterFieldBuilder): PothosSchemaTypes.InputFieldRef<Types, unknown>;
  /** The condition for a given value; null when the value asks for nothing (e.g. an empty list). */
  where(value: unknown, scope: TenantScope): Prisma.DeviceWhereInput | null;
}

let installed: readonly DeviceFilterTerm[] = [];

/** Called by the module composition; the DeviceFilter input reads the terms when the schema is built. */
export function installDeviceFilterTerms(terms: readonly DeviceFilterTerm[]): void {
  const seen = new Set<string>();
  for (const term of terms) {
    if (seen.has(term.field)) throw new TypeError(`DeviceFilter.${term.field} is contributed twice`);
    seen.add(term.field);
  }
  installed = terms;
}

export function contributedDeviceFilterTerms(): readonly DeviceFilterTerm[] {
  return installed;
}
