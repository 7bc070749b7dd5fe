import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { AuthenticationError } from '../auth/jwt.js';
import { DomainError, ForbiddenError, ValidationError } from '../kernel/errors.js';
import type { Logger } from '../logger.js';

/**
 * Two tiers, as in PostGraphile: errors a client can act on keep their message and get a code;
 * everything else becomes "Unexpected error (logged with id …)" and the original (stack, SQL) is
 * logged under that id, never sent to the client.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    const original = isGraphQLError(error) ? (error.originalError ?? null) : error;
    const path = isGraphQLError(error) ? error.path : undefined;
    if (isGraphQLError(error) && (original === null || isGraphQLError(original))) return error;
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

/**
 * By name, not `instanceof`: graphql ships CJS and ESM builds and both get loaded (yoga's
 * executor and our code resolve different ones), so an error from one fails `instanceof` of the other.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}
