import { z } from 'zod';
import { payloadTimestamp } from '../../mqtt/codec.js';

/** `status`: `online` when a session starts, `offline` as the will (LWT) or on a clean stop. */
export const statusPayloadSchema = z.object({
  state: z.enum(['online', 'offline']),
  sessionId: z.string().min(1).max(128).optional(),
  ts: payloadTimestamp.optional(),
});

/** `heartbeat`. Unknown keys (extra metrics some firmware sends) are accepted and stripped, not rejected. */
export const heartbeatPayloadSchema = z.object({
  ts: payloadTimestamp.optional(),
  uptimeS: z.number().min(0).optional(),
});

export type StatusPayload = z.output<typeof statusPayloadSchema>;
export type HeartbeatPayload = z.output<typeof heartbeatPayloadSchema>;

declare module '../../mqtt/ingest.js' {
  interface InboundPayloads {
    status: StatusPayload;
    heartbeat: HeartbeatPayload;
  }
}
