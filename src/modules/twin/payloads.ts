import { z } from 'zod';
import { jsonObjectSchema } from '../../mqtt/codec.js';

/**
 * `twin/reported`: the device's state, merged (RFC 7396) or replacing. `seq` orders a device's
 * reports: it grows with each report, across reboots (a counter kept in flash, or the time in
 * milliseconds); a report whose seq is not above the last applied one changes nothing.
 */
export const twinReportedPayloadSchema = z.object({
  state: jsonObjectSchema,
  mode: z.enum(['merge', 'replace']).default('merge'),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

export type TwinReportedPayload = z.output<typeof twinReportedPayloadSchema>;

declare module '../../mqtt/ingest.js' {
  interface InboundPayloads {
    twinReported: TwinReportedPayload;
  }
}
