import type { z } from 'zod';
import { VALIDATION_ISSUE_CODES, ValidationError, type ValidationIssue, type ValidationIssueCode } from './errors.js';
import { JSON_INPUT_BOUNDS } from './json.js';

/** zod's issue codes onto Pulse's closed set. */
const ZOD_CODES: Readonly<Record<string, ValidationIssueCode>> = {
  invalid_type: 'INVALID_TYPE',
  too_big: 'TOO_BIG',
  too_small: 'TOO_SMALL',
  invalid_format: 'INVALID_FORMAT',
  invalid_value: 'INVALID_VALUE',
  invalid_union: 'INVALID_VALUE',
  invalid_key: 'INVALID_VALUE',
  invalid_element: 'INVALID_VALUE',
  not_multiple_of: 'INVALID_VALUE',
  unrecognized_keys: 'UNRECOGNIZED_KEY',
  custom: 'INVALID_VALUE',
};

export function validationIssueCode(zodCode: string): ValidationIssueCode {
  return ZOD_CODES[zodCode] ?? 'INVALID_VALUE';
}

/**
 * Nesting allowed in an input as a whole: a JSON value at its own bound ({@link JSON_INPUT_BOUNDS})
 * plus the input objects around it.
 */
export const MAX_INPUT_DEPTH = JSON_INPUT_BOUNDS.maxDepth + 8;

/**
 * A refinement names its Pulse code with `params: { code }` (e.g. `TOO_DEEP` from a JSON bound),
 * since zod calls every refinement `custom`.
 */
function pulseCodeOf(issue: z.core.$ZodIssue): ValidationIssueCode | null {
  const code: unknown = issue.code === 'custom' ? issue.params?.['code'] : undefined;
  return typeof code === 'string' && (VALIDATION_ISSUE_CODES as readonly string[]).includes(code) ? (code as ValidationIssueCode) : null;
}

/**
 * Parses `value` with `schema`, turning every zod issue into a typed ValidationIssue under `basePath`.
 * The input's structure is checked first, iteratively ({@link structuralIssues}): zod and every
 * walk after it recurse, so nothing deeper than {@link MAX_INPUT_DEPTH} reaches them.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, basePath: string[] = ['input']): z.output<Schema> {
  const structural = structuralIssues(value, basePath);
  if (structural.length > 0) throw new ValidationError(structural);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      path: [...basePath, ...issue.path.map(String)],
      message: issue.message,
      code: pulseCodeOf(issue) ?? validationIssueCode(issue.code),
    })),
  );
}

type Frame = { value: unknown; depth: number; key: string; parent: Frame | null };

function pathOf(frame: Frame, basePath: readonly string[], key?: string): string[] {
  const keys: string[] = key === undefined ? [] : [key];
  for (let at: Frame | null = frame; at?.parent; at = at.parent) keys.push(at.key);
  return [...basePath, ...keys.reverse()];
}

/**
 * What no input may hold, anywhere, whatever its schema: nesting past {@link MAX_INPUT_DEPTH}
 * (`TOO_DEEP`); U+0000, which PostgreSQL text and jsonb cannot store (`NUL_CHARACTER`, in a value
 * or a key); and the key `__proto__` (`FORBIDDEN_KEY`). `__proto__` is refused rather than kept or
 * dropped, as the MQTT codec refuses it: an assignment-based copy (zod records, spreads) would
 * silently turn it into a prototype change, a defineProperty-based one would keep a key that
 * devices' JSON parsers may merge into prototypes. Iterative, with paths built only for issues;
 * at most 10 issues are listed.
 */
export function structuralIssues(value: unknown, basePath: readonly string[] = []): ValidationIssue[] {
  const found: ValidationIssue[] = [];
  const stack: Frame[] = [{ value, depth: 0, key: '', parent: null }];
  while (stack.length > 0 && found.length < 10) {
    const frame = stack.pop()!;
    const current = frame.value;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) found.push({ path: pathOf(frame, basePath), message: 'must not contain NUL characters (\\u0000)', code: 'NUL_CHARACTER' });
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    const depth = frame.depth + 1;
    if (depth > MAX_INPUT_DEPTH) {
      found.push({ path: pathOf(frame, basePath), message: `nested deeper than ${MAX_INPUT_DEPTH} levels`, code: 'TOO_DEEP' });
      continue;
    }
    const array = Array.isArray(current);
    const entries = Object.entries(current);
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const [key, child] = entries[index]!;
      if (!array && key === '__proto__') found.push({ path: pathOf(frame, basePath, key), message: 'the key "__proto__" is not allowed', code: 'FORBIDDEN_KEY' });
      else if (!array && key.includes('\u0000')) found.push({ path: pathOf(frame, basePath, key), message: 'keys must not contain NUL characters', code: 'NUL_CHARACTER' });
      stack.push({ value: child, depth, key, parent: frame });
    }
  }
  return found;
}
