import type { z } from 'zod';
import { ValidationError, type ValidationIssue, type ValidationIssueCode } from './errors.js';

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

/** Parses `value` with `schema`, turning every zod issue into a typed ValidationIssue under `basePath`. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, basePath: string[] = ['input']): z.output<Schema> {
  const nul = findNulCharacters(value, basePath);
  if (nul.length > 0) throw new ValidationError(nul);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      path: [...basePath, ...issue.path.map(String)],
      message: issue.message,
      code: validationIssueCode(issue.code),
    })),
  );
}

/**
 * PostgreSQL text and jsonb cannot store U+0000: a NUL anywhere in an input (value or key) would
 * surface as a database error, so it is a validation issue at its path instead.
 */
function findNulCharacters(value: unknown, path: string[], found: ValidationIssue[] = []): ValidationIssue[] {
  if (found.length >= 10) return found;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push({ path, message: 'must not contain NUL characters (\\u0000)', code: 'NUL_CHARACTER' });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => findNulCharacters(item, [...path, String(index)], found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) found.push({ path: [...path, key], message: 'keys must not contain NUL characters', code: 'NUL_CHARACTER' });
      findNulCharacters(item, [...path, key], found);
    }
  }
  return found;
}
