/**
 * Database errors classified by SQLSTATE, never by the wording of a message: the driver adapter
 * reports PostgreSQL's code (`cause.code` / `originalCode`), Prisma's query engine its own code
 * (P2002, ...) or an adapter error kind. This file maps all three onto SQLSTATE once.
 */
export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  invalidTextRepresentation: '22P02',
  numericOutOfRange: '22003',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

const PRISMA_CODES: Readonly<Record<string, string>> = {
  P2002: SQLSTATE.uniqueViolation,
  P2003: SQLSTATE.foreignKeyViolation,
  P2011: SQLSTATE.notNullViolation,
  P2034: SQLSTATE.serializationFailure,
};

const ADAPTER_KINDS: Readonly<Record<string, string>> = {
  UniqueConstraintViolation: SQLSTATE.uniqueViolation,
  ForeignKeyConstraintViolation: SQLSTATE.foreignKeyViolation,
  NullConstraintViolation: SQLSTATE.notNullViolation,
  TransactionWriteConflict: SQLSTATE.serializationFailure,
};

const SQLSTATE_SHAPE = /^[0-9A-Z]{5}$/;

interface ErrorLike {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  constraint?: unknown;
  originalMessage?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: unknown }; constraint?: unknown; target?: unknown };
  cause?: unknown;
}

/** The error and the causes it wraps, outermost first (bounded: causes can be cyclic). */
function* chain(error: unknown): Generator<ErrorLike> {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth += 1) {
    const record = current as ErrorLike;
    yield record;
    current = record.meta?.driverAdapterError?.cause ?? record.cause;
  }
}

/** The SQLSTATE behind a database error, or null when it is not one. */
export function sqlStateOf(error: unknown): string | null {
  for (const record of chain(error)) {
    for (const code of [record.originalCode, record.code]) {
      if (typeof code !== 'string') continue;
      if (SQLSTATE_SHAPE.test(code) && !code.startsWith('P')) return code;
      if (PRISMA_CODES[code]) return PRISMA_CODES[code];
    }
    if (typeof record.kind === 'string' && ADAPTER_KINDS[record.kind]) return ADAPTER_KINDS[record.kind]!;
  }
  return null;
}

/**
 * The violated constraint's name, when the error names one. PostgreSQL puts it in the error's
 * `constraint` field; through Prisma's raw-query path only the server message carries it.
 */
export function violatedConstraint(error: unknown): string | null {
  for (const record of chain(error)) {
    if (typeof record.constraint === 'string') return record.constraint;
    const named = record.meta?.constraint;
    if (typeof named === 'string') return named;
    const message = typeof record.originalMessage === 'string' ? record.originalMessage : null;
    const match = message && /constraint "([^"]+)"/.exec(message);
    if (match) return match[1]!;
  }
  return null;
}

export const isUniqueViolation = (error: unknown): boolean => sqlStateOf(error) === SQLSTATE.uniqueViolation;
export const isForeignKeyViolation = (error: unknown): boolean => sqlStateOf(error) === SQLSTATE.foreignKeyViolation;

/** The CHECK constraint that failed (`unknown` when unnamed), or null for any other error. */
export function checkViolationConstraint(error: unknown): string | null {
  return sqlStateOf(error) === SQLSTATE.checkViolation ? (violatedConstraint(error) ?? 'unknown') : null;
}
