import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { builder } from '../../graphql/builder.js';
import { ErrorInterface, ValidationIssueRef } from '../../graphql/errors.js';
import type { ValidationIssue } from '../../kernel/errors.js';
import { twinEtag } from './etag.js';
import { TwinDocumentTooLargeError, TwinVersionConflictError } from './errors.js';
import type { TwinDocumentIssue } from './limits.js';
import { DeviceTwinRef, TwinWriteMode } from './schema.js';
import { updateDesiredTwin, type DesiredWriteResult } from './service.js';

builder.objectType(TwinVersionConflictError, {
  name: 'TwinVersionConflict',
  description: 'The expected version is stale and the write could not be merged automatically; nothing was written',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof TwinVersionConflictError,
  fields: (t) => ({
    expectedVersion: t.exposeInt('expectedVersion'),
    currentVersion: t.exposeInt('currentVersion'),
    currentEtag: t.string({ resolve: (error) => twinEtag(error.currentVersion) }),
    currentDesired: t.field({ type: 'JSONObject', resolve: (error) => error.currentDesired }),
    conflictingPaths: t.exposeStringList('conflictingPaths', {
      description: 'Paths this write touches that were changed after expectedVersion',
    }),
  }),
});

/** Limit issues in the shared issue shape, so `issues { code }` means one type in every error. */
function asValidationIssue(issue: TwinDocumentIssue): ValidationIssue {
  return { path: issue.path, message: issue.message, code: issue.code === 'TOO_DEEP' ? 'TOO_DEEP' : issue.code === 'NOT_AN_OBJECT' || issue.code === 'NOT_JSON' ? 'INVALID_TYPE' : 'TOO_BIG' };
}

builder.objectType(TwinDocumentTooLargeError, {
  name: 'TwinDocumentTooLarge',
  description: 'The document the write would store exceeds a size, depth or path-length limit; nothing was written',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof TwinDocumentTooLargeError,
  fields: (t) => ({
    issues: t.field({ type: [ValidationIssueRef], resolve: (error) => error.issues.map(asValidationIssue) }),
    maxDocumentBytes: t.exposeInt('maxDocumentBytes'),
    maxDepth: t.exposeInt('maxDepth'),
  }),
});

const UpdateDeviceTwinDesiredInput = builder.inputType('UpdateDeviceTwinDesiredInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    desired: t.field({ type: 'JSONObject', required: true, description: 'A merge patch (MERGE) or the whole document (REPLACE)' }),
    expectedVersion: t.int({ description: 'Write only if desired is still at this version; omit for an unconditional write' }),
    ifMatch: t.string({ description: 'The ETag alternative to expectedVersion, e.g. "7"; * matches any version' }),
    mode: t.field({ type: TwinWriteMode, defaultValue: 'MERGE' }),
  }),
});

const UpdateDeviceTwinDesiredPayload = builder.objectRef<DesiredWriteResult>('UpdateDeviceTwinDesiredPayload').implement({
  fields: (t) => ({
    desiredVersion: t.exposeInt('version'),
    etag: t.string({ resolve: (result) => twinEtag(result.version) }),
    autoMerged: t.exposeBoolean('autoMerged', {
      description: 'expectedVersion was stale but the write touched nothing changed since, so it was merged onto the current version',
    }),
    basedOnVersion: t.exposeInt('basedOnVersion', { description: 'The version the write was applied on' }),
    twin: t.prismaField({
      type: DeviceTwinRef,
      resolve: (query, result, _args, ctx) => ctx.session.db.deviceState.findUniqueOrThrow({ ...query, where: { tenantId_deviceId: result.key } }),
    }),
    device: t.prismaField({
      type: 'Device',
      resolve: (query, result, _args, ctx) => ctx.session.db.device.findUniqueOrThrow({ ...query, where: { tenantId_deviceId: result.key } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  updateDeviceTwinDesired: t.field({
    type: UpdateDeviceTwinDesiredPayload,
    description: 'Writes desired state; with expectedVersion or ifMatch only if no conflicting write happened since',
    errors: {
      types: [TwinVersionConflictError, TwinDocumentTooLargeError, ValidationError, NotFoundError],
      directResult: true,
      union: { name: 'UpdateDeviceTwinDesiredResult' },
    },
    args: { input: t.arg({ type: UpdateDeviceTwinDesiredInput, required: true }) },
    resolve: (_root, args, ctx) => updateDesiredTwin(ctx.session, ctx.services, args.input),
  }),
}));
