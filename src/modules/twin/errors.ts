/**
 * Twin failures a client can act on. Thrown by the twin service before anything is written, and
 * exposed as typed members of the mutation's result union.
 */
import { DomainError } from '../../kernel/errors.js';
import type { JsonObject } from './json.js';
import type { TwinDocumentIssue } from './limits.js';

/**
 * The write named a desired version that is no longer current and could not be merged
 * automatically (it touches a path changed since, or it is a REPLACE). Nothing was written; the
 * client re-reads (or takes `currentDesired`), resolves, and retries with `currentVersion`.
 */
export class TwinVersionConflictError extends DomainError {
  constructor(
    readonly expectedVersion: number,
    readonly currentVersion: number,
    readonly currentDesired: JsonObject,
    /** Paths this write touches that were also changed after `expectedVersion`. */
    readonly conflictingPaths: string[],
  ) {
    super(`Desired state is at version ${currentVersion}, not ${expectedVersion}`, 'TWIN_VERSION_CONFLICT');
  }
}

/** The document the write would store breaks a size, depth or path-length limit. */
export class TwinDocumentTooLargeError extends DomainError {
  constructor(
    readonly issues: TwinDocumentIssue[],
    readonly maxDocumentBytes: number,
    readonly maxDepth: number,
  ) {
    super(issues[0]?.message ?? 'twin document exceeds a limit', 'TWIN_DOCUMENT_TOO_LARGE');
  }
}
