/**
 * Failures a client can act on. Services throw these; the GraphQL layer exposes each as a typed
 * result member (errors plugin), so they are data, not masked errors. Anything else is a bug and
 * gets masked and logged with an id.
 */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface ValidationIssue {
  /** Where the problem is, e.g. `["input", "tags", "0", "key"]`. */
  path: string[];
  message: string;
  code: string;
}

export class ValidationError extends DomainError {
  constructor(readonly issues: ValidationIssue[]) {
    super(
      issues.length === 1 ? `Invalid input: ${issues[0]!.path.join('.')}: ${issues[0]!.message}` : `Invalid input (${issues.length} problems)`,
      'VALIDATION_FAILED',
    );
  }

  static single(path: string[], message: string, code = 'INVALID'): ValidationError {
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
