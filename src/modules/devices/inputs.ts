import { z } from 'zod';
import { idSchema } from '../../kernel/ids.js';
import { checkJsonBounds } from '../../kernel/json.js';

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

/** Tag keys are identifiers clients filter by; values are free text, bounded. */
export const tagSchema = z.object({
  key: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,62}$/, 'must be 1–63 characters: letters, digits and _ . : - (starting with a letter)'),
  value: z.string().max(256, 'must be at most 256 characters'),
});

const tagsSchema = z
  .array(tagSchema)
  .max(50, 'at most 50 tags per device')
  .superRefine((tags, ctx) => {
    const seen = new Set<string>();
    tags.forEach((tag, index) => {
      if (seen.has(tag.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `duplicate tag key "${tag.key}"` });
      seen.add(tag.key);
    });
  });

/**
 * Free-form descriptive JSON, bounded like every JSON input and tighter: 16 KiB, 8 levels. Its
 * structure is checked (iteratively) by `parseInput` before this schema copies it, so a
 * `__proto__` key is refused there (FORBIDDEN_KEY), never dropped by the copy.
 */
export const METADATA_BOUNDS = { maxDepth: 8, maxBytes: 16_384 } as const;

const metadataSchema = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const issue = checkJsonBounds(value, METADATA_BOUNDS);
  if (issue) ctx.addIssue({ code: 'custom', path: issue.path, message: `metadata ${issue.message}`, params: { code: issue.code } });
});

export const registerDeviceSchema = z.object({
  deviceId: idSchema,
  name,
  siteId: idSchema.nullish(),
  tags: tagsSchema.nullish(),
  model: z.string().max(200).nullish(),
  firmwareVersion: z.string().max(100).nullish(),
  serialNumber: z.string().max(100).nullish(),
  metadata: metadataSchema.nullish(),
});

export const updateDeviceSchema = z.object({
  deviceId: idSchema,
  name: name.nullish(),
  /** `null` clears the site; absent leaves it. */
  siteId: idSchema.nullish(),
  /** Replaces the whole tag set when given. */
  tags: tagsSchema.nullish(),
  model: z.string().max(200).nullish(),
  firmwareVersion: z.string().max(100).nullish(),
  metadata: metadataSchema.nullish(),
});

export type RegisterDeviceInput = z.infer<typeof registerDeviceSchema>;
export type UpdateDeviceInput = z.infer<typeof updateDeviceSchema>;
