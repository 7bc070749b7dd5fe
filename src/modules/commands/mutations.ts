import { builder } from '../../graphql/builder.js';
import { ErrorInterface } from '../../graphql/errors.js';
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { CommandBatchRef } from './batch-schema.js';
import { CommandNotCancellableError } from './errors.js';
import { MAX_TTL_SECONDS } from './inputs.js';
import { CommandRef, CommandStatusEnum, commandIdOf } from './schema.js';
import { cancelCommand, sendCommand, sendGroupCommand } from './service.js';
import type { CommandKey } from './store.js';

builder.objectType(CommandNotCancellableError, {
  name: 'CommandNotCancellable',
  description: 'Only a QUEUED command that is not being handed to the broker can be cancelled; nothing changed',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof CommandNotCancellableError,
  fields: (t) => ({
    commandId: t.exposeString('commandId'),
    status: t.field({ type: CommandStatusEnum, resolve: (error) => error.status }),
    publishing: t.exposeBoolean('publishing', { description: 'True while a server instance is handing it to the broker' }),
  }),
});

const SendCommandInput = builder.inputType('SendCommandInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    commandType: t.string({ required: true, description: '1–64 characters: a letter, then letters, digits and _ . : -' }),
    params: t.field({ type: 'JSON', description: 'A JSON object (default {}); size and depth are limited' }),
    ttlSeconds: t.int({ description: `1 to ${MAX_TTL_SECONDS} (7 days); default 3600. Not sent by then: EXPIRED; sent, not acked: MISSED` }),
    idempotencyKey: t.string({ description: 'The same key for the same device returns the command it first created' }),
  }),
});

const SendGroupCommandInput = builder.inputType('SendGroupCommandInput', {
  fields: (t) => ({
    groupId: t.string({ required: true }),
    commandType: t.string({ required: true }),
    params: t.field({ type: 'JSON' }),
    ttlSeconds: t.int(),
  }),
});

const CancelCommandInput = builder.inputType('CancelCommandInput', {
  fields: (t) => ({ id: t.id({ required: true, description: "The command's global ID or its commandId" }) }),
});

type Sent = { key: CommandKey; replayed: boolean };

const SendCommandPayload = builder.objectRef<Sent>('SendCommandPayload').implement({
  fields: (t) => ({
    command: t.prismaField({
      type: CommandRef,
      description: 'QUEUED when created: it is handed to the broker after the operation commits',
      resolve: (query, result, _args, ctx) =>
        ctx.session.db.deviceCommand.findUniqueOrThrow({ ...query, where: { tenantId_commandId: result.key } }),
    }),
    replayed: t.exposeBoolean('replayed', { description: 'The idempotency key named an existing command; nothing new was stored' }),
  }),
});

const CancelCommandPayload = builder.objectRef<{ key: CommandKey }>('CancelCommandPayload').implement({
  fields: (t) => ({
    command: t.prismaField({
      type: CommandRef,
      resolve: (query, result, _args, ctx) =>
        ctx.session.db.deviceCommand.findUniqueOrThrow({ ...query, where: { tenantId_commandId: result.key } }),
    }),
  }),
});

const SendGroupCommandPayload = builder.objectRef<{ tenantId: string; batchId: string }>('SendGroupCommandPayload').implement({
  fields: (t) => ({
    batch: t.prismaField({
      type: CommandBatchRef,
      resolve: (query, result, _args, ctx) =>
        ctx.session.db.commandBatch.findUniqueOrThrow({ ...query, where: { tenantId_batchId: { tenantId: result.tenantId, batchId: result.batchId } } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  sendCommand: t.field({
    type: SendCommandPayload,
    description: 'Stores a command for a device and sends it QoS 1 once the device is ONLINE and has a free in-flight slot',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'SendCommandResult' } },
    args: { input: t.arg({ type: SendCommandInput, required: true }) },
    resolve: (_root, args, ctx) => sendCommand(ctx.session, ctx.services, args.input),
  }),
  sendGroupCommand: t.field({
    type: SendGroupCommandPayload,
    description: 'One command per current member of a group, in one transaction, counted by a CommandBatch',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'SendGroupCommandResult' } },
    args: { input: t.arg({ type: SendGroupCommandInput, required: true }) },
    resolve: (_root, args, ctx) => sendGroupCommand(ctx.session, ctx.services, args.input),
  }),
  cancelCommand: t.field({
    type: CancelCommandPayload,
    description: 'Cancels a command that has not been sent yet',
    errors: { types: [CommandNotCancellableError, ValidationError, NotFoundError], directResult: true, union: { name: 'CancelCommandResult' } },
    args: { input: t.arg({ type: CancelCommandInput, required: true }) },
    resolve: async (_root, args, ctx) => ({ key: await cancelCommand(ctx.session, ctx.services, commandIdOf(ctx.scope, String(args.input.id))) }),
  }),
}));
