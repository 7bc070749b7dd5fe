import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** Parses `value` with `schema`, turning every zod issue into a typed ValidationIssue under `basePath`. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, basePath: string[] = ['input']): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      path: [...basePath, ...issue.path.map(String)],
      message: issue.message,
      code: issue.code.toUpperCase(),
    })),
  );
}
