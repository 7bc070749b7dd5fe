import { z } from 'zod';
import { jsonObjectSchema } from '../../mqtt/codec.js';

/** `commands/{commandId}/ack`: the device's verdict on one command. */
export const commandAckPayloadSchema = z.object({
  status: z.enum(['delivered', 'failed']),
  result: jsonObjectSchema.optional(),
  error: z.string().max(4096).optional(),
});

export type CommandAckPayload = z.output<typeof commandAckPayloadSchema>;
