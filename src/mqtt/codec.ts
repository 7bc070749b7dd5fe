/**
 * Schemas and the one decoder for device → server MQTT payloads (JSON, UTF-8). Devices are
 * untrusted: {@link decodePayload} turns any byte sequence into either a typed value or a typed
 * reason, so the ingest loop can count, log and drop bad input without ever crashing.
 */
import { z } from 'zod';
import type { InboundKind } from './topics.js';

/** Default cap on a payload's size; a 1,024-station registration list fits with room to spare. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;
/** Default cap on `{`/`[` nesting; legitimate twin documents are shallow, parsers and mergers recurse. */
export const DEFAULT_MAX_JSON_DEPTH = 32;

const MAX_METRICS = 256;
const MAX_STATIONS = 1024;

/** ISO-8601 with an offset, or epoch milliseconds; both become a `Date`. */
const timestamp = z
  .union([z.iso.datetime({ offset: true }), z.number().int().min(0).max(8.64e15)])
  .transform((value) => new Date(value));

/** Any JSON object (not array, not null) — twin documents and ack results. */
const jsonObject = z.record(z.string(), z.json());

export const statusPayloadSchema = z.object({
  state: z.enum(['online', 'offline']),
  sessionId: z.string().min(1).max(128).optional(),
  ts: timestamp.optional(),
});

/** Unknown keys (extra metrics some firmware sends) are accepted and stripped, not rejected. */
export const heartbeatPayloadSchema = z.object({
  ts: timestamp.optional(),
  uptimeS: z.number().min(0).optional(),
});

export const metricNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'metric names match ^[A-Za-z0-9_.:-]{1,64}$');

export const telemetryPayloadSchema = z.object({
  ts: timestamp.optional(),
  // z.number() rejects ±Infinity and NaN, which JSON.parse yields for e.g. 1e400.
  metrics: z
    .record(metricNameSchema, z.number())
    .refine((metrics) => Object.keys(metrics).length <= MAX_METRICS, `at most ${MAX_METRICS} metrics`),
});

export const twinReportedPayloadSchema = z.object({
  state: jsonObject,
  mode: z.enum(['merge', 'replace']).default('merge'),
  version: z.number().int().min(0).optional(),
});

export const commandAckPayloadSchema = z.object({
  status: z.enum(['delivered', 'failed']),
  result: jsonObject.optional(),
  error: z.string().max(4096).optional(),
});

/**
 * Normalises a MAC address to lower-case colon form (`aa:bb:cc:dd:ee:ff`) from colon, dash,
 * Cisco dotted or bare hex notation; `null` when it is not a 48-bit MAC.
 */
export function normalizeMac(input: string): string | null {
  if (input.length > 17) return null;
  const hex = /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$/.test(input)
    ? input.replace(/[:-]/g, '')
    : /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(input)
      ? input.replace(/\./g, '')
      : null;
  return hex === null ? null : hex.toLowerCase().replace(/(..)(?!$)/g, '$1:');
}

const macSchema = z.string().transform((value, ctx) => {
  const mac = normalizeMac(value);
  if (mac === null) {
    ctx.addIssue({ code: 'custom', message: 'not a 48-bit MAC address' });
    return z.NEVER;
  }
  return mac;
});

export const wirelessStationSchema = z.object({
  mac: macSchema,
  signalDbm: z.number().min(-200).max(50).optional(),
  snrDb: z.number().min(-50).max(150).optional(),
  txRate: z.number().min(0).max(1e6).optional(),
  rxRate: z.number().min(0).max(1e6).optional(),
  ccq: z.number().min(0).max(100).optional(),
});

export const wirelessRegistrationsPayloadSchema = z.object({
  ts: timestamp.optional(),
  interface: z.string().min(1).max(64).optional(),
  stations: z.array(wirelessStationSchema).max(MAX_STATIONS),
});

export type StatusPayload = z.output<typeof statusPayloadSchema>;
export type HeartbeatPayload = z.output<typeof heartbeatPayloadSchema>;
export type TelemetryPayload = z.output<typeof telemetryPayloadSchema>;
export type TwinReportedPayload = z.output<typeof twinReportedPayloadSchema>;
export type CommandAckPayload = z.output<typeof commandAckPayloadSchema>;
export type WirelessStation = z.output<typeof wirelessStationSchema>;
export type WirelessRegistrationsPayload = z.output<typeof wirelessRegistrationsPayloadSchema>;

/** The decoded payload type for each inbound topic kind. */
export interface PayloadByKind {
  status: StatusPayload;
  heartbeat: HeartbeatPayload;
  telemetry: TelemetryPayload;
  twinReported: TwinReportedPayload;
  commandAck: CommandAckPayload;
  wirelessRegistrations: WirelessRegistrationsPayload;
}

/** The schema for each inbound topic kind. */
export const payloadSchemas: { readonly [K in InboundKind]: z.ZodType<PayloadByKind[K], unknown> } = {
  status: statusPayloadSchema,
  heartbeat: heartbeatPayloadSchema,
  telemetry: telemetryPayloadSchema,
  twinReported: twinReportedPayloadSchema,
  commandAck: commandAckPayloadSchema,
  wirelessRegistrations: wirelessRegistrationsPayloadSchema,
};

export type DecodeFailureReason = 'TOO_LARGE' | 'NOT_UTF8' | 'NOT_JSON' | 'INVALID';

/** Outcome of {@link decodePayload}; `detail` is safe to log (it never echoes the payload). */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: DecodeFailureReason; detail: string };

export interface DecodeOptions {
  /** Larger payloads are refused before any decoding. Default {@link DEFAULT_MAX_PAYLOAD_BYTES}. */
  maxBytes?: number;
  /** Deeper JSON is refused before parsing. Default {@link DEFAULT_MAX_JSON_DEPTH}. */
  maxDepth?: number;
}

/**
 * Greatest `{`/`[` nesting of a JSON text, scanning outside strings; stops early past `limit`.
 * Done before JSON.parse so that `[[[[…` a megabyte deep never reaches a recursive consumer.
 */
function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character (handles \" and \\)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Decodes and validates one inbound payload. Never throws, whatever the bytes: size is checked
 * first, then UTF-8, nesting depth, JSON syntax and finally the kind's schema. `__proto__` keys are
 * refused anywhere in the document so no later merge can be tricked into prototype pollution.
 */
export function decodePayload<K extends InboundKind>(
  kind: K,
  payload: Uint8Array,
  options: DecodeOptions = {},
): DecodeResult<PayloadByKind[K]> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  try {
    if (!(payload instanceof Uint8Array)) return { ok: false, reason: 'INVALID', detail: 'payload is not bytes' };
    if (payload.byteLength > maxBytes) {
      return { ok: false, reason: 'TOO_LARGE', detail: `${payload.byteLength} bytes exceeds the ${maxBytes}-byte limit` };
    }
    let text: string;
    try {
      text = utf8.decode(payload);
    } catch {
      return { ok: false, reason: 'NOT_UTF8', detail: 'payload is not valid UTF-8' };
    }
    if (text.trim() === '') return { ok: false, reason: 'NOT_JSON', detail: 'empty payload' };
    // PostgreSQL text and jsonb cannot hold U+0000; refuse it here rather than fail the batch later.
    if (text.includes('\\u0000')) return { ok: false, reason: 'INVALID', detail: 'NUL characters (\\u0000) cannot be stored' };
    if (jsonDepthExceeds(text, maxDepth)) {
      return { ok: false, reason: 'INVALID', detail: `JSON nested deeper than ${maxDepth} levels` };
    }
    let forbiddenKey = false;
    let json: unknown;
    try {
      // The reviver costs a call per value, so only pay it when the key could be present,
      // literally or spelled with \u escapes.
      json =
        text.includes('__proto__') || text.includes('\\u')
          ? JSON.parse(text, (key: string, value: unknown) => {
              if (key === '__proto__') forbiddenKey = true;
              return value;
            })
          : JSON.parse(text);
    } catch (error) {
      return { ok: false, reason: 'NOT_JSON', detail: error instanceof Error ? error.message.slice(0, 200) : 'unparsable' };
    }
    if (forbiddenKey) return { ok: false, reason: 'INVALID', detail: 'the key "__proto__" is not allowed' };
    const schema = Object.hasOwn(payloadSchemas, kind) ? payloadSchemas[kind] : undefined;
    if (schema === undefined) return { ok: false, reason: 'INVALID', detail: `no payload schema for kind ${String(kind)}` };
    const parsed = schema.safeParse(json);
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, reason: 'INVALID', detail: describeIssues(parsed.error) };
  } catch (error) {
    // Last resort (e.g. a stack overflow in a validator): still a typed answer, never a throw.
    return { ok: false, reason: 'INVALID', detail: `decoder error: ${error instanceof Error ? error.name : 'unknown'}` };
  }
}
