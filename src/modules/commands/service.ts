/**
 * The rules of sending and cancelling commands, over the caller's tenant transaction. Nothing is
 * published here: creations and transitions are queued as events, and the dispatcher (a reaction
 * to those events, after commit) hands commands to the broker, so a rolled-back operation never
 * sends anything.
 */
import type { TenantSession } from '../../db/tenant-session.js';
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import type { JsonObject } from '../../kernel/json.js';
import { parseInput } from '../../kernel/validation.js';
import type { AppServices } from '../../services.js';
import { findActiveDevice } from '../devices/service.js';
import { groupMemberKeys } from '../groups/membership.js';
import { requireWriter } from '../tenants/service.js';
import type { CommandSettings } from './config.js';
import { CommandNotCancellableError } from './errors.js';
import { sendCommandSchema, sendGroupCommandSchema } from './inputs.js';
import { checkCommandParams } from './params.js';
import { fromStored } from './status.js';
import { cancelQueued, commandState, findByIdempotencyKey, insertBatch, insertCommand, type CommandKey } from './store.js';
import { publishTransitions } from './transitions.js';

function validParams(params: unknown, settings: CommandSettings): JsonObject {
  const issues = checkCommandParams(params ?? {}, { maxBytes: settings.maxParamsBytes, maxDepth: settings.maxParamsDepth }, ['input', 'params']);
  if (issues.length > 0) throw new ValidationError(issues);
  return (params ?? {}) as JsonObject;
}

/**
 * Stores a command for an active device of the caller's tenant, QUEUED; it is published after
 * commit if the device is ONLINE and has a free in-flight slot, else when it has. With an
 * idempotency key the device already used, returns that command (`replayed`) and stores nothing.
 */
export async function sendCommand(session: TenantSession, services: AppServices, rawInput: unknown): Promise<{ key: CommandKey; replayed: boolean }> {
  const input = parseInput(sendCommandSchema, rawInput);
  const params = validParams(input.params, services.config.commands);
  const tenantId = requireWriter(session.scope);
  const device = { tenantId, deviceId: input.deviceId };
  await findActiveDevice(session, device);
  const created = await insertCommand(session, {
    key: device,
    commandType: input.commandType,
    params,
    ttlSeconds: input.ttlSeconds,
    idempotencyKey: input.idempotencyKey,
    createdBy: session.scope.actorId,
  });
  if (!created) {
    const existing = await findByIdempotencyKey(session, device, input.idempotencyKey!);
    // ON CONFLICT only skips for a committed (or just committed) row with this key.
    if (!existing) throw new Error('idempotency conflict without a command');
    return { key: existing, replayed: true };
  }
  publishTransitions(session, services.metrics.commands, [created]);
  return { key: { tenantId, commandId: created.command_id }, replayed: false };
}

/**
 * One command per member of the group as it is now (static members, or the devices a dynamic
 * group's filter matches), and the batch that counts them, in the caller's transaction.
 */
export async function sendGroupCommand(session: TenantSession, services: AppServices, rawInput: unknown): Promise<{ tenantId: string; batchId: string }> {
  const input = parseInput(sendGroupCommandSchema, rawInput);
  const settings = services.config.commands;
  const params = validParams(input.params, settings);
  const tenantId = requireWriter(session.scope);
  // NotFound for an unknown group or another tenant's (RLS hides it).
  const members = await groupMemberKeys(session, tenantId, input.groupId);
  if (members.length > settings.maxGroupTargets) {
    throw ValidationError.single(['input', 'groupId'], `the group has ${members.length} members, more than ${settings.maxGroupTargets}`, 'TOO_BIG');
  }
  const batch = await insertBatch(session, {
    tenantId,
    groupId: input.groupId,
    deviceIds: members.map((member) => member.deviceId),
    commandType: input.commandType,
    params,
    ttlSeconds: input.ttlSeconds,
    createdBy: session.scope.actorId,
  });
  publishTransitions(session, services.metrics.commands, batch.created);
  return { tenantId, batchId: batch.batchId };
}

/**
 * Cancels a command that is still QUEUED and that no publisher is handing to the broker.
 * NotFound for another tenant's or an unknown command; CommandNotCancellable otherwise.
 */
export async function cancelCommand(session: TenantSession, services: AppServices, commandId: string): Promise<CommandKey> {
  const tenantId = requireWriter(session.scope);
  const key = { tenantId, commandId };
  const cancelled = await cancelQueued(session, key);
  if (cancelled) {
    publishTransitions(session, services.metrics.commands, [cancelled]);
    return key;
  }
  const state = await commandState(session, key);
  if (!state) throw new NotFoundError('Command', commandId);
  throw new CommandNotCancellableError(commandId, fromStored(state.status), state.publishing);
}
