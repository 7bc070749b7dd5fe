/**
 * Device interfaces: their MACs resolve wireless stations to devices. Registering a MAC (or
 * changing one) resolves what APs already reported: its unresolved registrations become links,
 * and existing links of that MAC point at the device; removing it detaches those links.
 */
import { z } from 'zod';
import type { TenantSession } from '../../db/tenant-session.js';
import { AlreadyExistsError, NotFoundError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { isUniqueViolation, violatedConstraint } from '../../kernel/sql-errors.js';
import { parseInput } from '../../kernel/validation.js';
import { findActiveDevice } from '../devices/service.js';
import { requireWriter } from '../tenants/service.js';
import { macSchema } from './payloads.js';
import { resolveStationMac } from './resolution.js';
import type { LinkThresholds } from './state-machine.js';

export const INTERFACE_KINDS = ['ethernet', 'wifi', 'cellular', 'virtual', 'other'] as const;
export type InterfaceKind = (typeof INTERFACE_KINDS)[number];

const interfaceName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces, as the AP reports it (e.g. wlan0)');
const uuid = z.uuid('must be an interface id');

export const registerInterfaceSchema = z.object({
  deviceId: idSchema,
  name: interfaceName,
  macAddress: macSchema,
  kind: z.enum(INTERFACE_KINDS).nullish(),
});

export const updateInterfaceSchema = z.object({
  id: uuid,
  name: interfaceName.nullish(),
  macAddress: macSchema.nullish(),
  kind: z.enum(INTERFACE_KINDS).nullish(),
});

export const deleteInterfaceSchema = z.object({ id: uuid });

export interface InterfaceChange {
  interfaceId: string;
  deviceId: string;
  /** Links created from unresolved registrations or re-attached to the device by this change. */
  resolvedLinkIds: string[];
}

/** The typed error for a unique violation: the MAC is another interface's, or the name is taken. */
function conflictError(error: unknown, input: { deviceId: string; name: string; macAddress: string }): AlreadyExistsError | null {
  if (!isUniqueViolation(error)) return null;
  return violatedConstraint(error) === 'device_interfaces_tenant_id_device_id_name_key'
    ? new AlreadyExistsError('DeviceInterface', `${input.deviceId}/${input.name}`)
    : new AlreadyExistsError('DeviceInterface', input.macAddress);
}

/** Points the AP side of links at the interface of that name (or at nothing when it goes). */
async function attachApSide(session: TenantSession, tenantId: string, deviceId: string, name: string, interfaceId: string | null): Promise<void> {
  await session.db.$executeRaw`
    UPDATE wireless_links SET ap_interface_id = ${interfaceId}::uuid
    WHERE tenant_id = ${tenantId} AND ap_device_id = ${deviceId} AND ap_interface_name = ${name}
      AND ap_interface_id IS DISTINCT FROM ${interfaceId}::uuid`;
}

/** Links whose CPE is this interface lose their CPE: its MAC no longer resolves to it. */
async function detachCpeSide(session: TenantSession, tenantId: string, interfaceId: string): Promise<void> {
  await session.db.$executeRaw`
    UPDATE wireless_links SET cpe_device_id = NULL, cpe_interface_id = NULL
    WHERE tenant_id = ${tenantId} AND cpe_interface_id = ${interfaceId}::uuid`;
}

/**
 * Registers an interface of an active device of the caller's tenant. The MAC is stored
 * normalised and is unique per tenant (AlreadyExists otherwise), as is the name per device.
 */
export async function registerDeviceInterface(session: TenantSession, rawInput: unknown, defaults: LinkThresholds): Promise<InterfaceChange> {
  const input = parseInput(registerInterfaceSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await findActiveDevice(session, { tenantId, deviceId: input.deviceId });
  // ON CONFLICT DO NOTHING: a taken MAC or name is an answer, not an aborted transaction.
  const [created] = await session.db.$queryRaw<Array<{ id: string }>>`
    INSERT INTO device_interfaces (tenant_id, device_id, name, mac_address, interface_type)
    VALUES (${tenantId}, ${input.deviceId}, ${input.name}, ${input.macAddress}, ${input.kind ?? 'other'})
    ON CONFLICT DO NOTHING
    RETURNING id`;
  if (!created) {
    const [taken] = await session.db.$queryRaw<Array<{ by_name: boolean }>>`
      SELECT (device_id = ${input.deviceId} AND name = ${input.name}) AS by_name FROM device_interfaces
      WHERE tenant_id = ${tenantId} AND (mac_address = ${input.macAddress} OR (device_id = ${input.deviceId} AND name = ${input.name}))
      ORDER BY 1 LIMIT 1`;
    throw taken?.by_name
      ? new AlreadyExistsError('DeviceInterface', `${input.deviceId}/${input.name}`)
      : new AlreadyExistsError('DeviceInterface', input.macAddress);
  }
  await attachApSide(session, tenantId, input.deviceId, input.name, created.id);
  const resolvedLinkIds = await resolveStationMac(session, { tenantId, deviceId: input.deviceId, interfaceId: created.id, mac: input.macAddress }, defaults);
  return { interfaceId: created.id, deviceId: input.deviceId, resolvedLinkIds };
}

/** Renames, re-addresses or re-kinds an interface; a new MAC is resolved as on registration. */
export async function updateDeviceInterface(session: TenantSession, rawInput: unknown, defaults: LinkThresholds): Promise<InterfaceChange> {
  const input = parseInput(updateInterfaceSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const [current] = await session.db.$queryRaw<Array<{ device_id: string; name: string; mac_address: string }>>`
    SELECT device_id, name, mac_address FROM device_interfaces WHERE tenant_id = ${tenantId} AND id = ${input.id}::uuid FOR UPDATE`;
  if (!current) throw new NotFoundError('DeviceInterface', input.id);
  const next = { deviceId: current.device_id, name: input.name ?? current.name, macAddress: input.macAddress ?? current.mac_address };
  try {
    // A savepoint: a unique violation becomes AlreadyExists and the transaction stays usable.
    await session.savepoint(() =>
      session.db.deviceInterface.update({
        where: { id: input.id },
        data: { name: next.name, macAddress: next.macAddress, ...(input.kind != null && { interfaceType: input.kind }) },
        select: { id: true },
      }),
    );
  } catch (error) {
    throw conflictError(error, next) ?? error;
  }
  let resolvedLinkIds: string[] = [];
  if (next.name !== current.name) {
    await attachApSide(session, tenantId, current.device_id, current.name, null);
    await attachApSide(session, tenantId, current.device_id, next.name, input.id);
  }
  if (next.macAddress !== current.mac_address) {
    await detachCpeSide(session, tenantId, input.id);
    resolvedLinkIds = await resolveStationMac(session, { tenantId, deviceId: current.device_id, interfaceId: input.id, mac: next.macAddress }, defaults);
  }
  return { interfaceId: input.id, deviceId: current.device_id, resolvedLinkIds };
}

/** Deletes an interface; links of its MAC stay (a link is its AP radio and station MAC) without a CPE. */
export async function deleteDeviceInterface(session: TenantSession, rawInput: unknown): Promise<{ interfaceId: string; deviceId: string }> {
  const input = parseInput(deleteInterfaceSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await detachCpeSide(session, tenantId, input.id);
  const [deleted] = await session.db.$queryRaw<Array<{ device_id: string }>>`
    DELETE FROM device_interfaces WHERE tenant_id = ${tenantId} AND id = ${input.id}::uuid RETURNING device_id`;
  if (!deleted) throw new NotFoundError('DeviceInterface', input.id);
  return { interfaceId: input.id, deviceId: deleted.device_id };
}
