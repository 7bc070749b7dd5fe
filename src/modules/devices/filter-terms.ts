/**
 * The device's own terms of the filter language: site, tags, IDs and names. Other modules add
 * theirs (presence, connection, twin, groups) through their descriptors' `deviceFilters`.
 */
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { defineFilterTerm, type DeviceDimension } from '../../graphql/device-filter-terms.js';
import { idSchema } from '../../kernel/ids.js';

export const TagFilterInput = builder.inputType('TagFilter', {
  fields: (t) => ({
    key: t.string({ required: true }),
    value: t.string({ description: 'Omit to match any value of the key (the key exists)' }),
  }),
});

const tagFilterSchema = z.object({
  key: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,62}$/, 'must be a tag key: 1–63 characters, letters, digits and _ . : -'),
  value: z.string().max(256).nullish(),
});

const tagCondition = (device: Prisma.Sql, tag: z.output<typeof tagFilterSchema>) =>
  Prisma.sql`EXISTS (SELECT 1 FROM device_tags t WHERE t.tenant_id = ${device}.tenant_id AND t.device_id = ${device}.device_id
    AND t.key = ${tag.key}${tag.value == null ? Prisma.empty : Prisma.sql` AND t.value = ${tag.value}`})`;

/** `LIKE` with the user's text taken literally (`%`, `_` and `\` escaped). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A glob (`*` any run, `?` one character) as a `LIKE` pattern; everything else is literal. */
export function globToLike(glob: string): string {
  return escapeLike(glob).replace(/\*/g, '%').replace(/\?/g, '_');
}

const prefix = z.string().min(1).max(128);
const glob = z.string().min(1).max(128).refine((value) => /[^*?]/.test(value), 'must contain something besides * and ?');

const columnLike = (column: 'device_id' | 'name', pattern: string) => (device: Prisma.Sql) =>
  Prisma.sql`${device}.${Prisma.raw(column)} LIKE ${pattern}`;

/**
 * Every term is TRUE or FALSE, never NULL: under `not` a NULL stays NULL, so a device without a
 * site would match neither `siteId: x` nor `not: { siteId: x }`. Hence the IS NOT NULL guards
 * on the one nullable column (they keep the plain comparison, so the index still serves it).
 */
export const deviceFilterTerms = [
  defineFilterTerm({
    field: 'siteId',
    schema: idSchema.nullish(),
    input: (t) => t.string({ description: 'The device is at this site' }),
    sql: (siteId, { device }) => Prisma.sql`(${device}.site_id IS NOT NULL AND ${device}.site_id = ${siteId})`,
    dependsOn: ['registry'],
  }),
  defineFilterTerm({
    field: 'siteIds',
    schema: z.array(idSchema).min(1).max(100).nullish(),
    input: (t) => t.stringList({ description: 'The device is at one of these sites' }),
    sql: (siteIds, { device }) => Prisma.sql`(${device}.site_id IS NOT NULL AND ${device}.site_id = ANY(${siteIds}::text[]))`,
    dependsOn: ['registry'],
  }),
  defineFilterTerm({
    field: 'tags',
    schema: z.array(tagFilterSchema).min(1).max(20).nullish(),
    input: (t) => t.field({ type: [TagFilterInput], description: 'Every one of these tags (all of): key = value, or the key exists when value is omitted' }),
    sql: (tags, { device }) => Prisma.join(tags.map((tag) => tagCondition(device, tag)), ' AND '),
    dependsOn: ['tags'],
  }),
  defineFilterTerm({
    field: 'tagsAny',
    schema: z.array(tagFilterSchema).min(1).max(20).nullish(),
    input: (t) => t.field({ type: [TagFilterInput], description: 'At least one of these tags (any of)' }),
    sql: (tags, { device }) => Prisma.sql`(${Prisma.join(tags.map((tag) => tagCondition(device, tag)), ' OR ')})`,
    dependsOn: ['tags'],
  }),
  defineFilterTerm({
    field: 'search',
    schema: z.string().min(1).max(200).nullish(),
    input: (t) => t.string({ description: 'Case-insensitive substring of deviceId or name' }),
    sql: (text, { device }) => {
      const pattern = `%${escapeLike(text)}%`;
      return Prisma.sql`(${device}.device_id ILIKE ${pattern} OR ${device}.name ILIKE ${pattern})`;
    },
    dependsOn: ['registry'],
  }),
  defineFilterTerm({
    field: 'deviceIdPrefix',
    schema: prefix.nullish(),
    input: (t) => t.string({ description: 'deviceId starts with this (case-sensitive)' }),
    sql: (text, { device }) => columnLike('device_id', `${escapeLike(text)}%`)(device),
    dependsOn: [],
  }),
  defineFilterTerm({
    field: 'namePrefix',
    schema: prefix.nullish(),
    input: (t) => t.string({ description: 'name starts with this (case-sensitive)' }),
    sql: (text, { device }) => columnLike('name', `${escapeLike(text)}%`)(device),
    dependsOn: ['registry'],
  }),
  defineFilterTerm({
    field: 'deviceIdPattern',
    schema: glob.nullish(),
    input: (t) => t.string({ description: 'deviceId matches this glob: * any run of characters, ? one character' }),
    sql: (text, { device }) => columnLike('device_id', globToLike(text))(device),
    dependsOn: [],
  }),
  defineFilterTerm({
    field: 'namePattern',
    schema: glob.nullish(),
    input: (t) => t.string({ description: 'name matches this glob: * any run of characters, ? one character' }),
    sql: (text, { device }) => columnLike('name', globToLike(text))(device),
    dependsOn: ['registry'],
  }),
];

export const deviceDimensions: DeviceDimension[] = [
  { name: 'SITE', description: "The device's siteId (null: no site)", sql: (device) => Prisma.sql`${device}.site_id` },
  {
    name: 'TAG',
    description: 'The value of the tag named by tagKey (null: the device has no such tag)',
    needsTagKey: true,
    sql: (device, tagKey) =>
      Prisma.sql`(SELECT t.value FROM device_tags t WHERE t.tenant_id = ${device}.tenant_id AND t.device_id = ${device}.device_id AND t.key = ${tagKey})`,
  },
];
