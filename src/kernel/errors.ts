/**
 * Failures a client can act on. Services throw these; the GraphQL layer exposes each as a typed
 * result member (errors plugin), so they are data, not masked errors. Anything else is a bug and
 * gets masked and logged with an id.
 */
/** The codes of the platform's own typed errors; modules declare theirs in their descriptor's `errorCodes`. */
export const PLATFORM_ERROR_CODES = ['VALIDATION_FAILED', 'NOT_FOUND', 'ALREADY_EXISTS'] as const;

export class DomainError extends Error {
  constructor(
    message: string,
    /** A member of the `ErrorCode` enum: the platform's codes or a module's `errorCodes`. */
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * What is wrong with one input value: a closed set (a GraphQL enum), so clients can branch on it.
 * zod's own codes are mapped onto these in validation.ts; modules use the same set.
 */
export const VALIDATION_ISSUE_CODES = [
  /** Wrong type (a string where a number belongs, an array instead of an object, ...). */
  'INVALID_TYPE',
  /** Too long, too many items, too large a number. */
  'TOO_BIG',
  /** Too short, too few items, too small a number, empty. */
  'TOO_SMALL',
  /** Wrong shape of a string: an ID, a MAC, an address, a timestamp. */
  'INVALID_FORMAT',
  /** Not one of the allowed values, or a value that breaks a rule. */
  'INVALID_VALUE',
  /** A key that is not part of the input. */
  'UNRECOGNIZED_KEY',
  /** Nested deeper than allowed. */
  'TOO_DEEP',
  /** Contains U+0000, which PostgreSQL text cannot hold. */
  'NUL_CHARACTER',
  /** A key (`__proto__`) refused everywhere. */
  'FORBIDDEN_KEY',
  /** Two values that must be ordered are not (e.g. offline after stale). */
  'OUT_OF_ORDER',
  /** A database rule (CHECK constraint) refused the value. */
  'CHECK_VIOLATION',
  /** Well-formed, but not supported here. */
  'UNSUPPORTED',
] as const;
export type ValidationIssueCode = (typeof VALIDATION_ISSUE_CODES)[number];

export interface ValidationIssue {
  /** Where the problem is, e.g. `["input", "tags", "0", "key"]`. */
  path: string[];
  message: string;
  code: ValidationIssueCode;
}

export class ValidationError extends DomainError {
  constructor(readonly issues: ValidationIssue[]) {
    super(
      issues.length === 1 ? `Invalid input: ${issues[0]!.path.join('.')}: ${issues[0]!.message}` : `Invalid input (${issues.length} problems)`,
      'VALIDATION_FAILED',
    );
  }

  static single(path: string[], message: string, code: ValidationIssueCode = 'INVALID_VALUE'): ValidationError {
    return new ValidationError([{ path, message, code }]);
  }
}

export class NotFoundError extends DomainError {
  constructor(
    readonly resource: string,
    readonly key: string,
  ) {
    super(`${resource} ${JSON.stringify(key)} not found`, 'NOT_FOUND');
  }
}

export class AlreadyExistsError extends DomainError {
  constructor(
    readonly resource: string,
    readonly key: string,
  ) {
    super(`${resource} ${JSON.stringify(key)} already exists`, 'ALREADY_EXISTS');
  }
}

/** The caller's role may not do this. An access failure: a GraphQL error with a code, not data. */
export class ForbiddenError extends Error {
  readonly code = 'FORBIDDEN';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}
