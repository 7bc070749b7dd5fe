import type { ValidationIssue } from './errors.js';

/** A JSON value as stored in JSONB columns and carried by JSON scalars. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * The structural bounds of every JSON input, whatever carries it (a GraphQL `JSON`/`JSONObject`
 * value, a mutation input, an MQTT payload): the same numbers as the MQTT payload rules
 * (docs/device-protocol.md). Modules apply tighter limits of their own on top (twin depth 10,
 * command params, metadata).
 */
export const JSON_INPUT_BOUNDS = Object.freeze({ maxDepth: 32, maxBytes: 256 * 1024 });

/** How deep and how large a JSON value may be; see {@link JSON_INPUT_BOUNDS}. */
export interface JsonBounds {
  /** Nesting: the outermost object or array counts as 1 (a scalar is 0). */
  maxDepth: number;
  /** UTF-8 bytes of the value's `JSON.stringify` form. */
  maxBytes: number;
}

type Frame = { value: unknown; depth: number; key: string; parent: Frame | null };

function pathOf(frame: Frame, basePath: readonly string[]): string[] {
  const keys: string[] = [];
  for (let at: Frame | null = frame; at?.parent; at = at.parent) keys.push(at.key);
  return [...basePath, ...keys.reverse()];
}

/**
 * The first way `value` breaks `bounds` (too deep, too large), or `null`. Iterative and stops at
 * the first level past `maxDepth`, so a value nested a million levels costs as much as one nested
 * `maxDepth + 1`; paths are built only for the issue reported. The size is measured only once the
 * depth is known to be bounded (serialising an unbounded value would recurse).
 */
export function checkJsonBounds(value: unknown, bounds: JsonBounds = JSON_INPUT_BOUNDS, basePath: readonly string[] = []): ValidationIssue | null {
  const stack: Frame[] = [{ value, depth: 0, key: '', parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.value === null || typeof frame.value !== 'object') continue;
    const depth = frame.depth + 1;
    if (depth > bounds.maxDepth) {
      return { path: pathOf(frame, basePath), message: `nested deeper than ${bounds.maxDepth} levels`, code: 'TOO_DEEP' };
    }
    for (const [key, child] of Object.entries(frame.value)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth, key, parent: frame });
    }
  }
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return { path: [...basePath], message: 'is not serialisable as JSON', code: 'INVALID_TYPE' };
  }
  if (bytes > bounds.maxBytes) {
    return { path: [...basePath], message: `is ${bytes} bytes of JSON, more than ${bounds.maxBytes}`, code: 'TOO_BIG' };
  }
  return null;
}

/**
 * Whether a JSON *text* nests `{`/`[` deeper than `limit`, scanning outside strings; stops at the
 * first level past it. Runs before `JSON.parse`, whose work (and every walk after it) grows with
 * the nesting an attacker chooses: `[[[[…` a megabyte deep never gets parsed.
 */
export function jsonTextDepthExceeds(text: string, limit: number): boolean {
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
