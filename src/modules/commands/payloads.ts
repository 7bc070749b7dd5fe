/**
 * The two command payloads of the device protocol (docs/device-protocol.md, "Commands"): what the
 * server publishes on `commands/{commandId}` and what the device answers on
 * `commands/{commandId}/ack`. The codec (src/mqtt/codec.ts) has checked size, UTF-8, depth, NUL
 * and `__proto__` before the ack schema runs.
 */
import { z } from 'zod';
import type { JsonObject } from '../../kernel/json.js';
import { jsonObjectSchema, payloadTimestamp } from '../../mqtt/codec.js';

/** Largest `result` a device may attach to an ack (bytes of its JSON text). */
export const MAX_ACK_RESULT_BYTES = 16_384;

/** `commands/{commandId}/ack`: the device's verdict on one command. Unknown keys are stripped. */
export const commandAckPayloadSchema = z.object({
  status: z.enum(['delivered', 'failed']),
  result: jsonObjectSchema
    .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_ACK_RESULT_BYTES, `must be at most ${MAX_ACK_RESULT_BYTES} bytes of JSON`)
    .optional(),
  error: z.string().max(4096).optional(),
  /** The device's own clock, kept with the ack; the server's receive time is what counts. */
  ts: payloadTimestamp.optional(),
});

export type CommandAckPayload = z.output<typeof commandAckPayloadSchema>;

declare module '../../mqtt/ingest.js' {
  interface InboundPayloads {
    commandAck: CommandAckPayload;
  }
}

/**
 * `commands/{commandId}` (server → device, QoS 1, not retained). `commandId` lets a device drop a
 * second delivery of the same command; `expiresAt` lets it drop one that arrives too late.
 */
export interface CommandMessage {
  commandId: string;
  commandType: string;
  params: JsonObject;
  expiresAt: string;
}
