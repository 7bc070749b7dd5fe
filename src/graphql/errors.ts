import { AlreadyExistsError, DomainError, NotFoundError, ValidationError } from '../kernel/errors.js';
import { builder } from './builder.js';

/** Every error a client can handle implements this interface. */
export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code'),
  }),
});

builder.objectType(DomainError, {
  name: 'BaseError',
  interfaces: [ErrorInterface],
  isTypeOf: () => false,
});

const ValidationIssueRef = builder.objectRef<ValidationError['issues'][number]>('ValidationIssue').implement({
  fields: (t) => ({
    path: t.exposeStringList('path'),
    message: t.exposeString('message'),
    code: t.exposeString('code'),
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

/** The error members most mutations share; a field adds its own domain errors to these. */
export const commonMutationErrors = [ValidationError, NotFoundError] as const;
