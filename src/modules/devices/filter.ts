/**
 * The one device filter language. A `DeviceFilter` is a tree: the terms at one level all hold
 * (AND), `and` / `or` hold for all / any of their branches, `not` negates its branch. It is
 * validated once (typed errors with paths) and compiled to one SQL condition over
 * `device_registry d`; device lists, dynamic groups, fleet summaries, subscriptions and group
 * commands all evaluate it in the database. Terms come from every module (see
 * graphql/device-filter-terms.ts); this file owns the tree, its limits and its storage form.
 */
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { contributedDeviceFilterTerms, type DeviceAspect, type DeviceFilterTerm, type FilterSqlContext } from '../../graphql/device-filter-terms.js';
import { ValidationError, type ValidationIssue } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';

/** Bounds on a filter tree, so a stored filter can never become an expensive query by itself. */
export const FILTER_LIMITS = { maxDepth: 5, maxTerms: 64, maxBranches: 20 } as const;

/** A validated filter tree (term values as their schemas output them). */
export type DeviceFilter = { [field: string]: unknown; and?: DeviceFilter[]; or?: DeviceFilter[]; not?: DeviceFilter };

/** The top level adds the list options that are not conditions on one device. */
export type DeviceListFilter = DeviceFilter & { includeDecommissioned?: boolean | null; tenantId?: string | null };

/** The stored form of a dynamic group's filter: versioned, so a later language can migrate it. */
export interface StoredDeviceFilter {
  version: 1;
  filter: DeviceFilter;
}

const LOGICAL = ['and', 'or', 'not'] as const;
const LIST_OPTIONS = ['includeDecommissioned', 'tenantId'] as const;

let schemas: { node: z.ZodType<DeviceFilter>; top: z.ZodType<DeviceListFilter> } | undefined;

/** Built on first use, from the terms the module composition installed. */
function filterSchemas() {
  if (schemas) return schemas;
  const termShape = Object.fromEntries(contributedDeviceFilterTerms().map((term) => [term.field, term.schema]));
  const node: z.ZodType<DeviceFilter> = z.lazy(() =>
    z
      .object({
        ...termShape,
        and: z.array(node).min(1, 'and needs at least one branch').max(FILTER_LIMITS.maxBranches).nullish(),
        or: z.array(node).min(1, 'or needs at least one branch').max(FILTER_LIMITS.maxBranches).nullish(),
        not: node.nullish(),
      })
      .strict(),
  ) as z.ZodType<DeviceFilter>;
  const top = z.lazy(() =>
    z
      .object({
        ...termShape,
        and: z.array(node).min(1, 'and needs at least one branch').max(FILTER_LIMITS.maxBranches).nullish(),
        or: z.array(node).min(1, 'or needs at least one branch').max(FILTER_LIMITS.maxBranches).nullish(),
        not: node.nullish(),
        includeDecommissioned: z.boolean().nullish(),
        tenantId: idSchema.nullish(),
      })
      .strict(),
  ) as z.ZodType<DeviceListFilter>;
  schemas = { node, top };
  return schemas;
}

/** Depth and size before zod: an oversized tree is refused without walking it all. */
function shapeIssues(value: unknown, path: string[]): ValidationIssue[] {
  let terms = 0;
  const issues: ValidationIssue[] = [];
  const walk = (node: unknown, at: string[], depth: number) => {
    if (issues.length > 0 || node === null || typeof node !== 'object' || Array.isArray(node)) return;
    if (depth > FILTER_LIMITS.maxDepth) {
      issues.push({ path: at, message: `filters may nest at most ${FILTER_LIMITS.maxDepth} levels of and/or/not`, code: 'TOO_DEEP' });
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      if (child == null) continue;
      if (key === 'and' || key === 'or') {
        if (Array.isArray(child)) child.forEach((branch, index) => walk(branch, [...at, key, String(index)], depth + 1));
      } else if (key === 'not') walk(child, [...at, key], depth + 1);
      else if (++terms > FILTER_LIMITS.maxTerms) {
        issues.push({ path: at, message: `a filter may have at most ${FILTER_LIMITS.maxTerms} terms`, code: 'TOO_BIG' });
        return;
      }
    }
  };
  walk(value, path, 1);
  return issues;
}

/** Drops absent and null members, so equal filters store and compare equal. */
function normalise(filter: DeviceFilter): DeviceFilter {
  const out: DeviceFilter = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value == null) continue;
    if (key === 'and' || key === 'or') out[key] = (value as DeviceFilter[]).map(normalise);
    else if (key === 'not') out.not = normalise(value as DeviceFilter);
    else out[key] = value;
  }
  return out;
}

/** Validates a list filter (GraphQL `filter:` argument); typed `ValidationError` issues under `path`. */
export function parseDeviceListFilter(raw: unknown, path: string[] = ['filter']): DeviceListFilter {
  const value = raw ?? {};
  const issues = shapeIssues(value, path);
  if (issues.length > 0) throw new ValidationError(issues);
  return normalise(parseInput(filterSchemas().top, value, path)) as DeviceListFilter;
}

/** Validates a filter that will be stored (a dynamic group's): no list options, one condition tree. */
export function parseDeviceFilter(raw: unknown, path: string[]): DeviceFilter {
  const issues = shapeIssues(raw ?? {}, path);
  if (issues.length > 0) throw new ValidationError(issues);
  return normalise(parseInput(filterSchemas().node, raw ?? {}, path));
}

export function storeDeviceFilter(filter: DeviceFilter): StoredDeviceFilter {
  return { version: 1, filter };
}

/** Reads a stored filter back; a filter of an unknown version, or one no longer valid, is a ValidationError. */
export function loadStoredFilter(stored: unknown, path: string[]): DeviceFilter {
  const parsed = z.object({ version: z.literal(1), filter: z.unknown() }).safeParse(stored);
  if (!parsed.success) throw ValidationError.single(path, 'the stored filter has an unknown version', 'UNSUPPORTED');
  return parseDeviceFilter(parsed.data.filter, path);
}

const termsByField = () => new Map<string, DeviceFilterTerm>(contributedDeviceFilterTerms().map((term) => [term.field, term]));

export interface CompileOptions {
  session: TenantSession;
  /** The tenant whose devices are filtered (group terms resolve groups of this tenant). */
  tenantId: string;
  device?: Prisma.Sql;
  /** Groups being resolved (cycle detection for filters that refer to groups). */
  resolving?: readonly string[];
}

/** One SQL condition for a validated filter; `TRUE` for an empty one. */
export async function compileDeviceFilter(filter: DeviceFilter, options: CompileOptions): Promise<Prisma.Sql> {
  const terms = termsByField();
  const device = options.device ?? Prisma.raw('d');
  const context: FilterSqlContext = {
    device,
    session: options.session,
    tenantId: options.tenantId,
    resolving: options.resolving ?? [],
    compileNested: (nested) => compileDeviceFilter(nested as DeviceFilter, options),
  };
  const compile = async (node: DeviceFilter): Promise<Prisma.Sql> => {
    const parts: Prisma.Sql[] = [];
    for (const [field, value] of Object.entries(node)) {
      if (value == null || (LIST_OPTIONS as readonly string[]).includes(field)) continue;
      if (field === 'and') parts.push(Prisma.sql`(${Prisma.join(await Promise.all((value as DeviceFilter[]).map(compile)), ' AND ')})`);
      else if (field === 'or') parts.push(Prisma.sql`(${Prisma.join(await Promise.all((value as DeviceFilter[]).map(compile)), ' OR ')})`);
      else if (field === 'not') parts.push(Prisma.sql`NOT (${await compile(value as DeviceFilter)})`);
      else {
        const term = terms.get(field);
        if (!term) throw new TypeError(`no filter term ${field}`);
        parts.push(Prisma.sql`(${await term.sql(value as never, context)})`);
      }
    }
    return parts.length === 0 ? Prisma.sql`TRUE` : Prisma.join(parts, ' AND ');
  };
  return compile(filter);
}

/** The aspects of a device a filter looks at: a change to any other aspect cannot change its matches. */
export function filterAspects(filter: DeviceFilter): Set<DeviceAspect> {
  const terms = termsByField();
  const aspects = new Set<DeviceAspect>();
  const walk = (node: DeviceFilter) => {
    for (const [field, value] of Object.entries(node)) {
      if (value == null) continue;
      if (field === 'and' || field === 'or') (value as DeviceFilter[]).forEach(walk);
      else if (field === 'not') walk(value as DeviceFilter);
      else for (const aspect of terms.get(field)?.dependsOn ?? []) aspects.add(aspect);
    }
  };
  walk(filter);
  return aspects;
}

export { LOGICAL };
