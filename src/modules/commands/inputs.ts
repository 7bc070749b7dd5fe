/** Shapes of the commands module's inputs; `params` is checked by params.ts against configured limits. */
import { z } from 'zod';
import { idSchema } from '../../kernel/ids.js';
import { COMMAND_STATUSES } from './status.js';

/** Seven days, as AWS IoT's longest job timeout: a command older than that is not a command. */
export const MAX_TTL_SECONDS = 604_800;
export const DEFAULT_TTL_SECONDS = 3_600;

export const commandTypeSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_.:-]*$/, 'must start with a letter and hold only letters, digits and _ . : -');

const ttlSchema = z.number().int().min(1).max(MAX_TTL_SECONDS).nullish().transform((value) => value ?? DEFAULT_TTL_SECONDS);

export const sendCommandSchema = z.object({
  deviceId: idSchema,
  commandType: commandTypeSchema,
  params: z.unknown().optional(),
  ttlSeconds: ttlSchema,
  idempotencyKey: z
    .string()
    .min(1)
    .max(128)
    // Control characters would make a key that looks like another in logs and UIs.
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters')
    .nullish()
    .transform((value) => value ?? null),
});

export const sendGroupCommandSchema = z.object({
  groupId: idSchema,
  commandType: commandTypeSchema,
  params: z.unknown().optional(),
  ttlSeconds: ttlSchema,
});

export const commandFilterSchema = z
  .object({
    status: z.array(z.enum(COMMAND_STATUSES)).max(COMMAND_STATUSES.length).nullish(),
    commandType: commandTypeSchema.nullish(),
    createdAfter: z.date().nullish(),
    deviceId: idSchema.nullish(),
  })
  .nullish();

export type SendCommandInput = z.output<typeof sendCommandSchema>;
export type SendGroupCommandInput = z.output<typeof sendGroupCommandSchema>;
export type CommandFilter = NonNullable<z.output<typeof commandFilterSchema>>;
