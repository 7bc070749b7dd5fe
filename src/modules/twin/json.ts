/**
 * JSON value types and small, allocation-light helpers shared by the twin modules.
 *
 * Twin documents arrive from untrusted sources (GraphQL `JSON` scalars, MQTT payloads), so the
 * helpers here never read inherited properties: a key such as `"__proto__"` is an ordinary member
 * and must neither leak `Object.prototype` on read nor change an object's prototype on write.
 */

/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;

/** Any JSON value (what `JSON.parse` can return). */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;

/** A JSON object. Declared as a type alias (not an interface) so it is assignable to records. */
export type JsonObject = { [key: string]: JsonValue };

/** True for a JSON object: a non-null, non-array object. Does not inspect members. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own member `key` of `obj`, or `undefined` when absent (inherited properties are ignored). */
export function getMember<T>(obj: { [key: string]: T }, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Sets own member `key` on `obj`. `defineProperty` rather than assignment, because assigning to
 * `"__proto__"` would replace the prototype instead of creating a member.
 */
export function defineMember<T>(obj: { [key: string]: T }, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep copy of a JSON value, so callers can hand results out without sharing mutable state. */
export function cloneJson<T extends JsonValue>(value: T): T;
export function cloneJson(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map((item) => cloneJson(item));
  if (!isJsonObject(value)) return value;
  const copy: JsonObject = {};
  for (const [key, member] of Object.entries(value)) defineMember(copy, key, cloneJson(member));
  return copy;
}

/**
 * Deep validation that `value` is a JSON value: finite numbers, strings, booleans, null, arrays and
 * plain objects, without cycles. Iterative, so absurdly deep input cannot overflow the stack.
 */
export function isJsonValue(value: unknown): value is JsonValue {
  const ancestors = new Set<object>();
  // An `exit` frame pops its container off the ancestor set once all its children were checked.
  const stack: { value: unknown; exit: boolean }[] = [{ value, exit: false }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const current = frame.value;
    if (frame.exit) {
      ancestors.delete(current as object);
      continue;
    }
    if (current === null || typeof current === 'string' || typeof current === 'boolean') continue;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return false;
      continue;
    }
    if (typeof current !== 'object') return false;
    if (Array.isArray(current)) {
      // A sparse array's holes would silently become `null` in JSON.stringify.
      if (Object.keys(current).length !== current.length) return false;
    } else {
      const proto: unknown = Object.getPrototypeOf(current);
      if (proto !== Object.prototype && proto !== null) return false;
    }
    if (ancestors.has(current)) return false;
    ancestors.add(current);
    stack.push({ value: current, exit: true });
    for (const child of Object.values(current)) stack.push({ value: child, exit: false });
  }
  return true;
}

/**
 * Deep equality of two JSON values: arrays compare element by element in order, objects compare
 * by member set regardless of key order, numbers with `===` (so `0` equals `-0`).
 */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]!));
  }
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key]!, b[key]!));
}

/**
 * Nesting depth: scalars are 0, an object or array is 1 + the deepest member (so `{}` is 1 and
 * `{"a":{"b":1}}` is 2). Iterative for the same reason as {@link isJsonValue}.
 */
export function jsonDepth(value: JsonValue): number {
  let max = 0;
  const stack: { value: JsonValue; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.value === null || typeof frame.value !== 'object') continue;
    const depth = frame.depth + 1;
    if (depth > max) max = depth;
    for (const child of Object.values(frame.value)) stack.push({ value: child, depth });
  }
  return max;
}

/** Size in UTF-8 bytes of `JSON.stringify(value)`: what a document costs on the wire and at rest. */
export function jsonByteSize(value: JsonValue): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
