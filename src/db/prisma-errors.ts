/** Prisma's "unique constraint failed" (P2002), also when the driver adapter reports a 23505. */
export function isUniqueViolation(error: unknown): boolean {
  return hasCode(error, 'P2002') || hasCause(error, '23505');
}

/** Prisma's "foreign key constraint failed" (P2003) or a raw 23503. */
export function isForeignKeyViolation(error: unknown): boolean {
  return hasCode(error, 'P2003') || hasCause(error, '23503');
}

/** A CHECK constraint violation (23514); the constraint name tells which rule. */
export function checkViolationConstraint(error: unknown): string | null {
  const text = error instanceof Error ? error.message : '';
  if (!hasCause(error, '23514') && !/check constraint/i.test(text)) return null;
  const match = /constraint "?([A-Za-z0-9_]+)"?/.exec(text);
  return match?.[1] ?? 'unknown';
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === code;
}

function hasCause(error: unknown, sqlState: string): boolean {
  const text = error instanceof Error ? `${error.message} ${JSON.stringify(error)}` : '';
  return text.includes(sqlState);
}
