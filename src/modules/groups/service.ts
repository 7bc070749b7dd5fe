/**
 * Device groups: static (a member list) and dynamic (a stored filter, evaluated in SQL at read
 * time: read-your-writes, unlike an index that lags). Rules and permissions; SQL is in store.ts.
 */
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { AlreadyExistsError, NotFoundError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { isUniqueViolation } from '../../kernel/sql-errors.js';
import { parseInput } from '../../kernel/validation.js';
import { compileDeviceFilter, filterAspects, parseDeviceFilter, storeDeviceFilter, type DeviceFilter } from '../devices/filter.js';
import { ensureTenant, requireTenant, requireWriter } from '../tenants/service.js';
import { findGroup, groupMembershipSql, type GroupRecord } from './membership.js';
import {
  addStaticMembers,
  deleteGroupRow,
  insertGroup,
  refreshGroupSnapshot,
  removeStaticMembers,
  updateGroupRow,
  type GroupKey,
  type MemberOutcome,
} from './store.js';

/** Bulk member changes take at most this many IDs per call (AWS's thing-group batch is smaller). */
export const MAX_BULK_MEMBERS = 1_000;

const name = z.string().trim().min(1, 'must not be empty').max(200);
const description = z.string().max(2_000).nullish();

const createStaticSchema = z.object({ name, description });
const createDynamicSchema = z.object({ name, description, queryFilter: z.unknown() });
const updateSchema = z.object({ groupId: idSchema, name: name.nullish(), description, queryFilter: z.unknown().optional() });
const membersSchema = z.object({ groupId: idSchema, deviceIds: z.array(idSchema).min(1).max(MAX_BULK_MEMBERS) });

export interface MembershipChange {
  groupId: string;
  deviceId: string;
  change: 'JOINED' | 'LEFT';
}

function publishMembership(session: TenantSession, tenantId: string, changes: readonly MembershipChange[]): void {
  const occurredAt = new Date().toISOString();
  for (const change of changes) session.publish('deviceGroupMembershipChanged', { tenantId, ...change, occurredAt });
}

/** A name is unique per tenant: the violation is turned into AlreadyExists inside a savepoint. */
async function withUniqueName<T>(session: TenantSession, groupName: string, write: () => Promise<T>): Promise<T> {
  try {
    return await session.savepoint(write);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExistsError('DeviceGroup', groupName);
    throw error;
  }
}

/** Validates a filter for storage and proves it compiles (unknown groups, cycles) before anything is written. */
async function prepareFilter(session: TenantSession, tenantId: string, raw: unknown, groupId?: string) {
  const filter = parseDeviceFilter(raw, ['input', 'queryFilter']);
  await compileDeviceFilter(filter, { session, tenantId, resolving: groupId ? [groupId] : [] });
  return { filter, stored: storeDeviceFilter(filter) as unknown as Prisma.InputJsonValue, aspects: [...filterAspects(filter)] };
}

/** Creates a static group (members are added with {@link addDevicesToGroup}). */
export async function createStaticGroup(session: TenantSession, rawInput: unknown): Promise<GroupKey> {
  const input = parseInput(createStaticSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await ensureTenant(session, tenantId);
  return withUniqueName(session, input.name, () =>
    insertGroup(session, { tenantId, name: input.name, description: input.description ?? null, groupType: 'static', queryFilter: null, filterAspects: [] }),
  );
}

/** Creates a dynamic group from a validated filter; its members are whatever matches at each read. */
export async function createDynamicGroup(session: TenantSession, rawInput: unknown): Promise<GroupKey> {
  const input = parseInput(createDynamicSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const prepared = await prepareFilter(session, tenantId, input.queryFilter);
  await ensureTenant(session, tenantId);
  const key = await withUniqueName(session, input.name, () =>
    insertGroup(session, {
      tenantId,
      name: input.name,
      description: input.description ?? null,
      groupType: 'dynamic',
      queryFilter: prepared.stored,
      filterAspects: prepared.aspects,
    }),
  );
  // The snapshot membership events diff against starts from the members at creation (no events).
  await refreshGroupSnapshot(session, key, await groupMembershipSql(session, { ...key, groupType: 'dynamic', queryFilter: prepared.stored }));
  return key;
}

/** Renames, re-describes, or (dynamic groups) changes the filter; devices that join or leave by it are events. */
export async function updateGroup(session: TenantSession, rawInput: unknown): Promise<GroupKey> {
  const input = parseInput(updateSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const group = await findGroup(session, tenantId, input.groupId);
  const key = { tenantId, groupId: group.groupId };
  const changes: Parameters<typeof updateGroupRow>[2] = {};
  if (input.name != null) changes.name = input.name;
  if (input.description !== undefined) changes.description = input.description;
  let refreshed: GroupRecord | null = null;
  if (input.queryFilter !== undefined && input.queryFilter !== null) {
    if (group.groupType !== 'dynamic') throw new NotFoundError('DynamicDeviceGroup', group.groupId);
    const prepared = await prepareFilter(session, tenantId, input.queryFilter, group.groupId);
    changes.queryFilter = prepared.stored;
    changes.filterAspects = prepared.aspects;
    refreshed = { ...group, queryFilter: prepared.stored };
  }
  await withUniqueName(session, input.name ?? group.groupId, () => updateGroupRow(session, key, changes));
  if (refreshed) {
    const moved = await refreshGroupSnapshot(session, key, await groupMembershipSql(session, refreshed));
    publishMembership(session, tenantId, moved.map((row) => ({ groupId: key.groupId, deviceId: row.device_id, change: row.change })));
  }
  return key;
}

/** Deletes a group; commands once sent to it keep their history (their group_id is set null). */
export async function deleteGroup(session: TenantSession, rawGroupId: unknown): Promise<GroupKey> {
  const tenantId = requireWriter(session.scope);
  const groupId = parseInput(idSchema, rawGroupId, ['input', 'groupId']);
  if (!(await deleteGroupRow(session, { tenantId, groupId }))) throw new NotFoundError('DeviceGroup', groupId);
  return { tenantId, groupId };
}

export interface BulkMembershipResult {
  key: GroupKey;
  results: Array<{ deviceId: string; outcome: MemberOutcome }>;
}

async function staticGroup(session: TenantSession, tenantId: string, groupId: string): Promise<GroupKey> {
  const group = await findGroup(session, tenantId, groupId);
  if (group.groupType !== 'static') throw new NotFoundError('StaticDeviceGroup', groupId);
  return { tenantId, groupId };
}

/** Adds up to {@link MAX_BULK_MEMBERS} devices; idempotent, with an outcome per ID (unknown and foreign IDs are NOT_FOUND). */
export async function addDevicesToGroup(session: TenantSession, rawInput: unknown): Promise<BulkMembershipResult> {
  const input = parseInput(membersSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const key = await staticGroup(session, tenantId, input.groupId);
  const rows = await addStaticMembers(session, key, input.deviceIds);
  publishMembership(session, tenantId, rows.filter((row) => row.outcome === 'ADDED').map((row) => ({ groupId: key.groupId, deviceId: row.device_id, change: 'JOINED' })));
  return { key, results: orderLike(input.deviceIds, rows) };
}

/** Removes up to {@link MAX_BULK_MEMBERS} devices; idempotent, with an outcome per ID. */
export async function removeDevicesFromGroup(session: TenantSession, rawInput: unknown): Promise<BulkMembershipResult> {
  const input = parseInput(membersSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const key = await staticGroup(session, tenantId, input.groupId);
  const rows = await removeStaticMembers(session, key, input.deviceIds);
  publishMembership(session, tenantId, rows.filter((row) => row.outcome === 'REMOVED').map((row) => ({ groupId: key.groupId, deviceId: row.device_id, change: 'LEFT' })));
  return { key, results: orderLike(input.deviceIds, rows) };
}

/** One result per distinct ID, in the order the caller gave them. */
function orderLike(ids: readonly string[], rows: ReadonlyArray<{ device_id: string; outcome: MemberOutcome }>) {
  const byId = new Map(rows.map((row) => [row.device_id, row.outcome]));
  return [...new Set(ids)].map((deviceId) => ({ deviceId, outcome: byId.get(deviceId)! }));
}

/** The membership condition of a filter that is not stored yet (`previewDynamicGroup`). */
export async function previewCondition(session: TenantSession, rawFilter: unknown): Promise<{ tenantId: string; filter: DeviceFilter; condition: Prisma.Sql }> {
  const tenantId = requireTenant(session.scope);
  const filter = parseDeviceFilter(rawFilter, ['filter']);
  const condition = await compileDeviceFilter(filter, { session, tenantId });
  return { tenantId, filter, condition };
}

export { publishMembership };
