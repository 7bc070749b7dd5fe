/**
 * Checks on a command's `params` before anything is stored: a JSON object, of JSON values only,
 * no deeper and no larger than the limits, without `__proto__` keys (a device's JSON parser may
 * merge them into objects). Iterative, so a hostile document cannot overflow the stack.
 */
import type { ValidationIssue } from '../../kernel/errors.js';

export interface ParamsLimits {
  /** UTF-8 bytes of the `JSON.stringify` form. */
  maxBytes: number;
  /** Nesting, the top-level object counting as 1 and arrays counting as levels. */
  maxDepth: number;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value));

/** The issues with `params` under `path` (empty: acceptable); stops at the first of each kind. */
export function checkCommandParams(params: unknown, limits: ParamsLimits, path: string[]): ValidationIssue[] {
  if (!isPlainObject(params)) return [{ path, message: 'must be a JSON object', code: 'INVALID_TYPE' }];
  const issues: ValidationIssue[] = [];
  const stack: Array<{ value: unknown; depth: number; at: string[] }> = [{ value: params, depth: 1, at: path }];
  let tooDeep = false;
  while (stack.length > 0) {
    const { value, depth, at } = stack.pop()!;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return [{ path: at, message: 'numbers must be finite', code: 'INVALID_VALUE' }];
    }
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) continue;
    const array = Array.isArray(value);
    if (!array && !isPlainObject(value)) return [{ path: at, message: 'must hold JSON values only', code: 'INVALID_TYPE' }];
    if (depth > limits.maxDepth) {
      if (!tooDeep) issues.push({ path: at, message: `nested deeper than ${limits.maxDepth} levels`, code: 'TOO_DEEP' });
      tooDeep = true;
      continue;
    }
    for (const [key, child] of Object.entries(value as object)) {
      if (!array && key === '__proto__') return [{ path: [...at, key], message: 'the key "__proto__" is not allowed', code: 'FORBIDDEN_KEY' }];
      stack.push({ value: child, depth: depth + 1, at: [...at, key] });
    }
  }
  if (issues.length > 0) return issues;
  const bytes = Buffer.byteLength(JSON.stringify(params));
  if (bytes > limits.maxBytes) return [{ path, message: `is ${bytes} bytes of JSON, more than ${limits.maxBytes}`, code: 'TOO_BIG' }];
  return [];
}
