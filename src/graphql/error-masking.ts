import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { AuthenticationError } from '../auth/jwt.js';
import { DomainError, ForbiddenError, ValidationError, type ValidationIssue } from '../kernel/errors.js';
import { sqlStateOf } from '../kernel/sql-errors.js';
import type { Logger } from '../logger.js';

/**
 * A client mistake in a GraphQL argument or variable that no field's own rules get to see: a JSON
 * value past the platform's bounds, a NUL in a query argument. Answered as `BAD_USER_INPUT` with
 * the issues; HTTP 400 when it refused the whole request (no field ran).
 */
export class BadUserInputError extends Error {
  constructor(
    message: string,
    readonly issues: ValidationIssue[],
  ) {
    super(message);
    this.name = 'BadUserInputError';
  }
}

/**
 * PostgreSQL refusing a character it cannot store (U+0000 in text, 22021; in jsonb, 22P05): the
 * input's fault, whichever path let it reach the database.
 */
const UNSTORABLE_CHARACTER_STATES = new Set(['22021', '22P05']);

/**
 * Pothos' own argument checks (a negative `first`/`last`, a cursor or global ID that does not
 * decode, `before` with `first`): client mistakes, thrown as `PothosValidationError`. By name,
 * for the same dual-package reason as {@link isGraphQLError}.
 */
function isPothosValidationError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'PothosValidationError';
}

function badUserInput(message: string, path: GraphQLError['path'], issues: ValidationIssue[] = []): GraphQLError {
  // A request refused before any field ran has no path: HTTP 400, as for other request errors.
  return new GraphQLError(message, { path, extensions: { code: 'BAD_USER_INPUT', issues, ...(path === undefined && { http: { status: 400 } }) } });
}

/**
 * Two tiers, as in PostGraphile: errors a client can act on keep their message and get a code;
 * everything else becomes "Unexpected error (logged with id …)" and the original (stack, SQL) is
 * logged under that id, never sent to the client.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    const original = isGraphQLError(error) ? (error.originalError ?? null) : error;
    const path = isGraphQLError(error) ? error.path : undefined;
    if (isPothosValidationError(original)) return badUserInput(original.message, path);
    // graphql-js wraps a scalar's error twice when coercing a variable; the outer message names
    // the variable ("Variable "$input" got invalid value … at "input.metadata"; …").
    const cause = deepestCause(error);
    if (cause instanceof BadUserInputError) return badUserInput(cause === error ? cause.message : (error as Error).message, path, cause.issues);
    if (isGraphQLError(error) && (original === null || isGraphQLError(original))) return error;
    if (UNSTORABLE_CHARACTER_STATES.has(sqlStateOf(original) ?? '')) {
      return badUserInput('Invalid input: text must not contain NUL characters (\\u0000)', path, [
        { path: [], message: 'must not contain NUL characters (\\u0000)', code: 'NUL_CHARACTER' },
      ]);
    }
    if (original instanceof AuthenticationError) {
      return new GraphQLError(original.message, { path, extensions: { code: 'UNAUTHENTICATED', reason: original.code, http: { status: 401 } } });
    }
    if (original instanceof ForbiddenError) {
      return new GraphQLError(original.message, { path, extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
    }
    if (original instanceof ValidationError) {
      return new GraphQLError(original.message, { path, extensions: { code: original.code, issues: original.issues } });
    }
    if (original instanceof DomainError) {
      return new GraphQLError(original.message, { path, extensions: { code: original.code } });
    }
    const errorId = randomUUID();
    logger.error({ err: original, errorId, path }, 'unexpected error in GraphQL operation');
    return new GraphQLError(`Unexpected error (logged with id ${errorId})`, {
      path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', errorId },
    });
  };
}

/** The error at the end of a chain of GraphQLErrors' `originalError`s. */
function deepestCause(error: unknown): unknown {
  let cause = error;
  for (let hops = 0; hops < 10 && isGraphQLError(cause) && cause.originalError; hops += 1) cause = cause.originalError;
  return cause;
}

/**
 * By name, not `instanceof`: graphql ships CJS and ESM builds and both get loaded (yoga's
 * executor and our code resolve different ones), so an error from one fails `instanceof` of the other.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}
