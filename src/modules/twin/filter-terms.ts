/**
 * The twin's terms of the filter language: a value at a path of the desired or reported document
 * (equals, differs, compares, exists) and the sync status. Paths are written as in the twin's
 * delta (`a.b`, `["a.b"].c` for keys that need quoting). Conditions use the GIN indexes on the
 * documents where they can (`@>` for equality), and compare exactly after that.
 */
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { defineFilterTerm, type DeviceDimension } from '../../graphql/device-filter-terms.js';
import { parsePath } from './paths.js';
import { TwinSyncStatus } from './schema.js';

export const TwinValueOperator = builder.enumType('TwinValueOperator', {
  values: {
    EQ: { description: 'The value at the path equals `value` (JSON equality)' },
    NE: { description: 'The path is absent or its value differs from `value`' },
    GT: { description: 'A number (or string) greater than `value`, of the same type' },
    GTE: { description: 'A number (or string) at least `value`, of the same type' },
    LT: { description: 'A number (or string) less than `value`, of the same type' },
    LTE: { description: 'A number (or string) at most `value`, of the same type' },
    EXISTS: { description: 'The path is present (with any value, null included)' },
    NOT_EXISTS: { description: 'The path is absent' },
  } as const,
});

export const TwinValueFilterInput = builder.inputType('TwinValueFilter', {
  fields: (t) => ({
    path: t.string({ required: true, description: 'e.g. `firmware.version`; `["a.b"]` quotes a key' }),
    operator: t.field({ type: TwinValueOperator, required: true }),
    value: t.field({ type: 'JSON', description: 'Required except for EXISTS and NOT_EXISTS; GT…LTE take a number or a string' }),
  }),
});

const OPERATORS = ['EQ', 'NE', 'GT', 'GTE', 'LT', 'LTE', 'EXISTS', 'NOT_EXISTS'] as const;
type Operator = (typeof OPERATORS)[number];

const valueFilterSchema = z
  .object({
    path: z.string().min(1).max(512),
    operator: z.enum(OPERATORS),
    value: z.json().nullish(),
  })
  .superRefine((filter, ctx) => {
    const segments = parsePath(filter.path);
    if (!segments || segments.length === 0 || segments.length > 10) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'must be a twin path of 1–10 keys, e.g. firmware.version' });
    }
    const needsValue = filter.operator !== 'EXISTS' && filter.operator !== 'NOT_EXISTS';
    if (needsValue && filter.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `${filter.operator} needs a value` });
    if (['GT', 'GTE', 'LT', 'LTE'].includes(filter.operator) && typeof filter.value !== 'number' && typeof filter.value !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `${filter.operator} compares a number or a string` });
    }
    if (filter.value !== undefined && JSON.stringify(filter.value).length > 4096) {
      ctx.addIssue({ code: 'too_big', origin: 'string', maximum: 4096, path: ['value'], message: 'value must be at most 4 KiB of JSON' });
    }
  });

type ValueFilter = z.output<typeof valueFilterSchema>;

const COMPARISON: Record<Operator, string> = { EQ: '=', NE: '<>', GT: '>', GTE: '>=', LT: '<', LTE: '<=', EXISTS: '', NOT_EXISTS: '' };

/** `{"a":{"b":v}}` for path a.b: the containment that lets the GIN index find equal values. */
function nestedAt(segments: string[], value: unknown): unknown {
  return segments.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

function valueCondition(column: 'desired_state' | 'reported_state', filter: ValueFilter, device: Prisma.Sql): Prisma.Sql {
  const segments = parsePath(filter.path)!;
  // `->` with a text key, one level at a time: NULL on an array, where `#>` would index it with a
  // numeric key, yet twin paths never reach into arrays (they are leaves, as in the delta).
  const at = Prisma.sql`(s.${Prisma.raw(column)}${Prisma.join(segments.map((key) => Prisma.sql` -> ${key}::text`), '')})`;
  const onState = (condition: Prisma.Sql) =>
    Prisma.sql`EXISTS (SELECT 1 FROM device_state s WHERE s.tenant_id = ${device}.tenant_id AND s.device_id = ${device}.device_id AND ${condition})`;
  const json = JSON.stringify(filter.value ?? null);
  switch (filter.operator) {
    case 'EXISTS':
      return onState(Prisma.sql`${at} IS NOT NULL`);
    case 'NOT_EXISTS':
      return Prisma.sql`NOT ${onState(Prisma.sql`${at} IS NOT NULL`)}`;
    case 'EQ':
      // Containment first (indexed), then exact equality: @> alone treats arrays as subsets.
      return onState(Prisma.sql`s.${Prisma.raw(column)} @> ${JSON.stringify(nestedAt(segments, filter.value ?? null))}::jsonb AND ${at} = ${json}::jsonb`);
    case 'NE':
      return Prisma.sql`NOT ${onState(Prisma.sql`${at} = ${json}::jsonb`)}`;
    default: {
      const op = Prisma.raw(COMPARISON[filter.operator]);
      return typeof filter.value === 'number'
        ? onState(Prisma.sql`jsonb_typeof(${at}) = 'number' AND (${at})::numeric ${op} ${filter.value}::numeric`)
        : onState(Prisma.sql`jsonb_typeof(${at}) = 'string' AND (${at} #>> '{}') ${op} ${filter.value as string}`);
    }
  }
}

const SYNC_STATUSES = ['IN_SYNC', 'PENDING', 'STALE'] as const;

/**
 * The sync status in SQL, the same rule as computeSyncStatus: in sync when every desired leaf is
 * reported equal (pulse_twin_in_sync, see its migration); otherwise PENDING while ONLINE, else STALE.
 * A device without a state row has empty documents: in sync.
 */
const syncStatusSql = (device: Prisma.Sql) => Prisma.sql`COALESCE((
  SELECT CASE WHEN pulse_twin_in_sync(s.desired_state, s.reported_state) THEN 'IN_SYNC' WHEN s.status = 'ONLINE' THEN 'PENDING' ELSE 'STALE' END
  FROM device_state s WHERE s.tenant_id = ${device}.tenant_id AND s.device_id = ${device}.device_id), 'IN_SYNC')`;

export const twinFilterTerms = [
  defineFilterTerm({
    field: 'desired',
    schema: z.array(valueFilterSchema).min(1).max(10).nullish(),
    input: (t) => t.field({ type: [TwinValueFilterInput], description: 'Conditions on the desired document; all must hold' }),
    sql: (filters, { device }) => Prisma.join(filters.map((filter) => valueCondition('desired_state', filter, device)), ' AND '),
    dependsOn: ['twin'],
  }),
  defineFilterTerm({
    field: 'reported',
    schema: z.array(valueFilterSchema).min(1).max(10).nullish(),
    input: (t) => t.field({ type: [TwinValueFilterInput], description: 'Conditions on the reported document; all must hold' }),
    sql: (filters, { device }) => Prisma.join(filters.map((filter) => valueCondition('reported_state', filter, device)), ' AND '),
    dependsOn: ['twin'],
  }),
  defineFilterTerm({
    field: 'syncStatus',
    schema: z.array(z.enum(SYNC_STATUSES)).min(1).max(SYNC_STATUSES.length).nullish(),
    input: (t) => t.field({ type: [TwinSyncStatus], description: "The twin's sync status is one of these" }),
    sql: (statuses, { device }) => Prisma.sql`${syncStatusSql(device)} = ANY(${statuses as string[]}::text[])`,
    // Presence too: PENDING and STALE differ only by the device's status.
    dependsOn: ['twin', 'presence'],
  }),
];

export const twinDimensions: DeviceDimension[] = [
  { name: 'SYNC_STATUS', description: "The twin's sync status (IN_SYNC, PENDING, STALE)", sql: syncStatusSql },
];
