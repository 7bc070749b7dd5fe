import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Prisma } from '../../generated/prisma/client.js';
import type { TenantScope } from '../../db/tenant-session.js';
import { builder } from '../../graphql/builder.js';
import { namedConnection } from '../../graphql/connections.js';
import { parseDeviceKey } from '../../kernel/device-key.js';
import { ValidationError } from '../../kernel/errors.js';
import { isValidId } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';
import { lookupTenant, requireTenant } from '../tenants/service.js';
import { commandFilterSchema } from './inputs.js';
import { fromStored, toStored, type CommandStatus } from './status.js';

export const CommandStatusEnum = builder.enumType('CommandStatus', {
  values: {
    QUEUED: { description: 'Stored; not yet accepted by the broker (the device may be offline, or at its in-flight cap)' },
    SENT: { description: 'The broker acknowledged the publish (QoS 1 PUBACK); no ack from the device yet' },
    DELIVERED: { description: 'The device acknowledged it with success' },
    FAILED: { description: 'The device acknowledged it with an error' },
    EXPIRED: { description: 'Its TTL passed before it could be sent' },
    MISSED: { description: 'Sent, but the device did not acknowledge it before its TTL' },
    CANCELLED: { description: 'Cancelled before it was sent' },
  } satisfies Record<CommandStatus, { description: string }>,
});

/** `tenant/id` global ID bodies (IDs never contain `/`). */
export function parseTenantScopedId(id: string): { tenantId: string; id: string } {
  const key = parseDeviceKey(id);
  return { tenantId: key?.tenantId ?? '', id: key?.deviceId ?? '' };
}

/**
 * The key a `command(id)`-style argument names: a Relay global ID of `typename`, or the plain ID
 * in the caller's tenant (operators: `tenantId`). Null when it cannot name anything (not an ID).
 */
export function resolveIdArgument(scope: TenantScope, typename: string, id: string, tenantId?: string | null): { tenantId: string; id: string } | null {
  let key = { tenantId: '', id };
  try {
    const global = decodeGlobalID(id);
    key = global.typename === typename ? parseTenantScopedId(global.id) : key;
  } catch {
    // Not a global ID: a plain one.
  }
  if (!key.tenantId) key.tenantId = lookupTenant(scope, tenantId);
  return isValidId(key.tenantId) && isValidId(key.id) ? key : null;
}

/** The commandId a mutation's `id` names (in the caller's tenant), or a typed validation error. */
export function commandIdOf(scope: TenantScope, id: string): string {
  const key = resolveIdArgument(scope, 'Command', id);
  if (!key) throw ValidationError.single(['input', 'id'], "must be a command's global ID or its commandId", 'INVALID_FORMAT');
  return key.id;
}

/** A command and its delivery ledger; its global ID encodes tenant and command ID. */
export const CommandRef = builder.prismaNode('DeviceCommand', {
  name: 'Command',
  nullable: true,
  id: { resolve: (command) => `${command.tenantId}/${command.commandId}` },
  findUnique: (id) => {
    const key = parseTenantScopedId(id);
    return { tenantId_commandId: { tenantId: key.tenantId, commandId: key.id } };
  },
  fields: (t) => ({
    commandId: t.exposeString('commandId'),
    tenantId: t.exposeString('tenantId'),
    deviceId: t.exposeString('deviceId'),
    device: t.relation('device'),
    commandType: t.exposeString('commandType'),
    params: t.expose('commandParams', { type: 'JSONObject' }),
    status: t.field({ type: CommandStatusEnum, resolve: (command) => fromStored(command.status) }),
    statusChangedAt: t.expose('statusChangedAt', { type: 'DateTime' }),
    ttlSeconds: t.exposeInt('ttlSeconds'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    attempts: t.exposeInt('attempts', { description: 'Times it was handed to the broker (more than 1 only after an interrupted hand-over)' }),
    lastPublishedAt: t.expose('publishedAt', { type: 'DateTime', nullable: true, description: 'When it was last handed to the broker' }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true, description: 'When the broker accepted it' }),
    ackedAt: t.expose('ackedAt', { type: 'DateTime', nullable: true }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    failedAt: t.expose('failedAt', { type: 'DateTime', nullable: true }),
    cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true }),
    ack: t.expose('ackDetails', { type: 'JSONObject', nullable: true, description: 'The ack payload as the device sent it' }),
    result: t.field({
      type: 'JSONObject',
      nullable: true,
      description: "The ack's `result`, if the device sent one",
      resolve: (command) => (command.ackDetails as { result?: unknown } | null)?.result ?? null,
    }),
    failureReason: t.exposeString('error', { nullable: true, description: "The device's error, for a FAILED command" }),
    groupId: t.exposeString('groupId', { nullable: true }),
    batch: t.relation('batch', { nullable: true }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/** Every list of commands: Device.commands, Query.commands, CommandBatch.commands. */
export const CommandsConnection = namedConnection(CommandRef, 'Commands');

const statusWhere = (statuses: readonly CommandStatus[] | null | undefined): Prisma.DeviceCommandWhereInput =>
  statuses?.length ? { status: { in: statuses.map(toStored) } } : {};

builder.prismaObjectField('Device', 'commands', (t) =>
  t.relatedConnection(
    'commands',
    {
      cursor: 'tenantId_commandId',
      description: "The device's commands, newest first",
      args: { status: t.arg({ type: [CommandStatusEnum], description: 'Only commands in one of these statuses' }) },
      query: (args) => ({ where: statusWhere(args.status), orderBy: { seq: 'desc' } }),
      totalCount: true,
    },
    CommandsConnection,
  ),
);

const CommandFilterInput = builder.inputType('CommandFilter', {
  fields: (t) => ({
    status: t.field({ type: [CommandStatusEnum], description: 'In one of these statuses' }),
    commandType: t.string(),
    createdAfter: t.field({ type: 'DateTime' }),
    deviceId: t.string(),
  }),
});

function commandsWhere(scope: TenantScope, rawFilter: unknown): Prisma.DeviceCommandWhereInput {
  const filter = parseInput(commandFilterSchema, rawFilter, ['filter']) ?? {};
  return {
    tenantId: requireTenant(scope),
    ...statusWhere(filter.status),
    ...(filter.commandType && { commandType: filter.commandType }),
    ...(filter.createdAfter && { createdAt: { gt: filter.createdAfter } }),
    ...(filter.deviceId && { deviceId: filter.deviceId }),
  };
}

builder.queryFields((t) => ({
  command: t.prismaField({
    type: CommandRef,
    nullable: true,
    description: "A command of the caller's tenant by its global ID or its commandId; null when it does not exist",
    args: { id: t.arg.id({ required: true }), tenantId: t.arg.string({ description: 'Operators: the tenant of a plain commandId' }) },
    resolve: (query, _root, args, ctx) => {
      const key = resolveIdArgument(ctx.scope, 'Command', String(args.id), args.tenantId);
      if (!key) return null;
      return ctx.session.db.deviceCommand.findUnique({ ...query, where: { tenantId_commandId: { tenantId: key.tenantId, commandId: key.id } } });
    },
  }),
  commands: t.prismaConnection(
    {
      type: CommandRef,
      cursor: 'tenantId_commandId',
      defaultSize: 50,
      maxSize: 500,
      description: "The tenant's commands, newest first",
      args: { filter: t.arg({ type: CommandFilterInput }) },
      resolve: (query, _root, args, ctx) =>
        ctx.session.db.deviceCommand.findMany({ ...query, where: commandsWhere(ctx.scope, args.filter), orderBy: { seq: 'desc' } }),
      totalCount: (_root, args, ctx) => ctx.session.db.deviceCommand.count({ where: commandsWhere(ctx.scope, args.filter) }),
    },
    CommandsConnection,
  ),
}));
