import { z } from 'zod';
import { jsonObjectSchema } from '../../mqtt/codec.js';

/** `twin/reported`: the device's state, merged (RFC 7396) or replacing; `version` orders reports. */
export const twinReportedPayloadSchema = z.object({
  state: jsonObjectSchema,
  mode: z.enum(['merge', 'replace']).default('merge'),
  version: z.number().int().min(0).optional(),
});

export type TwinReportedPayload = z.output<typeof twinReportedPayloadSchema>;

declare module '../../mqtt/ingest.js' {
  interface InboundPayloads {
    twinReported: TwinReportedPayload;
  }
}
