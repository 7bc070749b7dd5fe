import { z } from 'zod';
import { idSchema } from '../../kernel/ids.js';
import { parseEtag } from './etag.js';
import { isJsonObject, type JsonObject } from './json.js';

/** `If-Match: *` matches any current version: the write is unconditional, as in RFC 9110 §13.1.1. */
const ANY_VERSION = '*';

export const updateDesiredInputSchema = z
  .object({
    deviceId: idSchema,
    // Kept as given (no copy): a copy would assign keys, and `"__proto__"` must stay a plain member.
    desired: z.custom<JsonObject>((value) => isJsonObject(value), 'must be a JSON object'),
    expectedVersion: z.number().int().min(0).max(2_147_483_647).nullish(),
    ifMatch: z.string().max(64).nullish(),
    mode: z.enum(['MERGE', 'REPLACE']).nullish(),
  })
  .superRefine((input, ctx) => {
    if (input.ifMatch == null || input.ifMatch.trim() === ANY_VERSION) return;
    const version = parseEtag(input.ifMatch);
    if (version === null) {
      ctx.addIssue({ code: 'custom', path: ['ifMatch'], message: 'must be an ETag of this API, e.g. "7" (with the quotes), or *' });
    } else if (input.expectedVersion != null && input.expectedVersion !== version) {
      ctx.addIssue({ code: 'custom', path: ['ifMatch'], message: `names version ${version} but expectedVersion is ${input.expectedVersion}` });
    }
  })
  .transform((input) => ({
    deviceId: input.deviceId,
    // Shape only here: the twin limits (size, depth, JSON values) are checked on the result.
    desired: input.desired,
    mode: input.mode ?? 'MERGE',
    expectedVersion: input.expectedVersion ?? (input.ifMatch == null ? null : parseEtag(input.ifMatch)),
  }));

/** A validated desired write; `expectedVersion` null means unconditional. */
export type UpdateDesiredInput = z.output<typeof updateDesiredInputSchema>;
