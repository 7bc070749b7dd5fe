/**
 * Schemas and the one decoder for device → server MQTT payloads (JSON, UTF-8). Devices are
 * untrusted: {@link decodePayload} turns any byte sequence into either a typed value or a typed
 * reason, so the ingest loop can count, log and drop bad input without ever crashing.
 */
import { z } from 'zod';
import { JSON_INPUT_BOUNDS, jsonTextDepthExceeds } from '../kernel/json.js';

/** Default cap on a payload's size; a 1,024-station registration list fits with room to spare. */
export const DEFAULT_MAX_PAYLOAD_BYTES = JSON_INPUT_BOUNDS.maxBytes;
/** Default cap on `{`/`[` nesting; legitimate twin documents are shallow, parsers and mergers recurse. */
export const DEFAULT_MAX_JSON_DEPTH = JSON_INPUT_BOUNDS.maxDepth;

/** ISO-8601 with an offset, or epoch milliseconds; both become a `Date`. For payload schemas. */
export const payloadTimestamp = z
  .union([z.iso.datetime({ offset: true }), z.number().int().min(0).max(8.64e15)])
  .transform((value) => new Date(value));

/** Any JSON object (not array, not null) — twin documents and ack results. For payload schemas. */
export const jsonObjectSchema = z.record(z.string(), z.json());

export type DecodeFailureReason = 'TOO_LARGE' | 'NOT_UTF8' | 'NOT_JSON' | 'INVALID';

/** Outcome of {@link decodePayload}; `detail` is safe to log (it never echoes the payload). */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: DecodeFailureReason; detail: string };

export interface DecodeOptions {
  /** Larger payloads are refused before any decoding. Default {@link DEFAULT_MAX_PAYLOAD_BYTES}. */
  maxBytes?: number;
  /** Deeper JSON is refused before parsing. Default {@link DEFAULT_MAX_JSON_DEPTH}. */
  maxDepth?: number;
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
export function decodePayload<T>(schema: z.ZodType<T, unknown>, payload: Uint8Array, options: DecodeOptions = {}): DecodeResult<T> {
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
    if (jsonTextDepthExceeds(text, maxDepth)) {
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
    const parsed = schema.safeParse(json);
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, reason: 'INVALID', detail: describeIssues(parsed.error) };
  } catch (error) {
    // Last resort (e.g. a stack overflow in a validator): still a typed answer, never a throw.
    return { ok: false, reason: 'INVALID', detail: `decoder error: ${error instanceof Error ? error.name : 'unknown'}` };
  }
}
