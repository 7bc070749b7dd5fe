import { AlreadyExistsError, NotFoundError, PLATFORM_ERROR_CODES, VALIDATION_ISSUE_CODES, ValidationError, type DomainError } from '../kernel/errors.js';
import { builder } from './builder.js';

let errorCodes: readonly string[] = PLATFORM_ERROR_CODES;

/**
 * The `ErrorCode` enum lists the platform's codes and every module's `errorCodes`; installed by the
 * module composition before the schema is built (the interface below reads it lazily).
 */
export function installErrorCodes(moduleCodes: readonly string[]): void {
  const all = [...PLATFORM_ERROR_CODES, ...moduleCodes];
  const duplicate = all.find((code, index) => all.indexOf(code) !== index);
  if (duplicate) throw new TypeError(`error code ${duplicate} is declared twice`);
  errorCodes = all;
}

/** Every error a client can handle implements this interface. */
export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({
      type: builder.enumType('ErrorCode', { values: Object.fromEntries(errorCodes.map((code) => [code, {}])) }),
      resolve: (error) => error.code,
    }),
  }),
});

export const ValidationIssueCodeEnum = builder.enumType('ValidationIssueCode', { values: VALIDATION_ISSUE_CODES });

/** One problem with an input value; also the issues of module errors such as TwinDocumentTooLarge. */
export const ValidationIssueRef = builder.objectRef<ValidationError['issues'][number]>('ValidationIssue').implement({
  fields: (t) => ({
    path: t.exposeStringList('path'),
    message: t.exposeString('message'),
    code: t.field({ type: ValidationIssueCodeEnum, resolve: (issue) => issue.code }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    issues: t.field({ type: [ValidationIssueRef], resolve: (error) => error.issues }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFound',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: (t) => ({
    resource: t.exposeString('resource'),
    key: t.exposeString('key'),
  }),
});

builder.objectType(AlreadyExistsError, {
  name: 'AlreadyExists',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof AlreadyExistsError,
  fields: (t) => ({
    resource: t.exposeString('resource'),
    key: t.exposeString('key'),
  }),
});
