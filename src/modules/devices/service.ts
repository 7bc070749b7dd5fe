import { Prisma } from '../../generated/prisma/client.js';
import { AlreadyExistsError, NotFoundError } from '../../kernel/errors.js';
import { isUniqueViolation } from '../../kernel/sql-errors.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import type { AppServices } from '../../services.js';
import { ensureTenant, requireTenant, requireWriter } from '../tenants/service.js';
import { parseInput } from '../../kernel/validation.js';
import { issueDeviceCredentials, revokeDeviceCredentials, type IssuedCredentials } from './credentials.js';
import { compileDeviceFilter, parseDeviceListFilter } from './filter.js';
import { registerDeviceSchema, updateDeviceSchema } from './inputs.js';

export type { DeviceKey };

async function assertSiteExists(session: TenantSession, tenantId: string, siteId: string): Promise<void> {
  const site = await session.db.site.findUnique({ where: { tenantId_siteId: { tenantId, siteId } }, select: { siteId: true } });
  if (!site) throw new NotFoundError('Site', siteId);
}

/** Registers a device with its state row, tags and first MQTT credentials (returned once, in clear). */
export async function registerDevice(session: TenantSession, rawInput: unknown): Promise<{ key: DeviceKey; credentials: IssuedCredentials }> {
  const input = parseInput(registerDeviceSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  await ensureTenant(session, tenantId);
  if (input.siteId) await assertSiteExists(session, tenantId, input.siteId);
  try {
    await session.db.device.create({
      data: {
        tenantId,
        deviceId: input.deviceId,
        name: input.name,
        siteId: input.siteId ?? null,
        model: input.model ?? null,
        firmwareVersion: input.firmwareVersion ?? null,
        serialNumber: input.serialNumber ?? null,
        metadata: (input.metadata ?? {}) as Prisma.InputJsonObject,
        state: { create: {} },
        tags: { create: (input.tags ?? []).map((tag) => ({ key: tag.key, value: tag.value })) },
      },
      select: { deviceId: true },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExistsError('Device', input.deviceId);
    throw error;
  }
  const key = { tenantId, deviceId: input.deviceId };
  const credentials = await issueDeviceCredentials(session, key);
  session.publish('deviceChanged', { ...key, change: 'REGISTERED' });
  return { key, credentials };
}

/** Updates name, site, tags (replaced as a set) and descriptive fields of an active device. */
export async function updateDevice(session: TenantSession, rawInput: unknown): Promise<DeviceKey> {
  const input = parseInput(updateDeviceSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const key = { tenantId, deviceId: input.deviceId };
  // Locked, not just read: two concurrent tag replacements would otherwise both delete and both
  // insert, and the second insert would collide on device_tags' key.
  await lockActiveDevice(session, key);
  if (input.siteId) await assertSiteExists(session, tenantId, input.siteId);
  await session.db.device.update({
    where: { tenantId_deviceId: key },
    data: {
      ...(input.name != null && { name: input.name }),
      ...(input.siteId !== undefined && { siteId: input.siteId }),
      ...(input.model !== undefined && { model: input.model }),
      ...(input.firmwareVersion !== undefined && { firmwareVersion: input.firmwareVersion }),
      ...(input.metadata != null && { metadata: input.metadata as Prisma.InputJsonObject }),
      ...(input.tags != null && {
        tags: { deleteMany: {}, create: input.tags.map((tag) => ({ key: tag.key, value: tag.value })) },
      }),
    },
    select: { deviceId: true },
  });
  session.publish('deviceChanged', { ...key, change: 'UPDATED' });
  return key;
}

/**
 * Decommissions a device: a soft delete that keeps its history, revokes its MQTT credentials and
 * hides it from lists unless `includeDecommissioned` is asked for.
 */
export async function decommissionDevice(session: TenantSession, services: Pick<AppServices, 'deviceSessions'>, deviceId: string): Promise<DeviceKey> {
  const tenantId = requireWriter(session.scope);
  const key = { tenantId, deviceId: parseInput(updateDeviceSchema.shape.deviceId, deviceId, ['deviceId']) };
  await findActiveDevice(session, key);
  await session.db.device.update({ where: { tenantId_deviceId: key }, data: { decommissionedAt: new Date() }, select: { deviceId: true } });
  await revokeDeviceCredentials(session, key);
  session.publish('deviceChanged', { ...key, change: 'DECOMMISSIONED' });
  session.afterCommit(async () => services.deviceSessions.disconnect(key.tenantId, key.deviceId));
  return key;
}

/**
 * Issues new MQTT credentials (returned once, in clear) and revokes the old ones in the same
 * transaction: the broker refuses the old password from the next CONNECT on. The device row is
 * locked first so two concurrent rotations serialise instead of colliding on the
 * one-active-credential index.
 */
export async function rotateDeviceCredentials(
  session: TenantSession,
  services: Pick<AppServices, 'deviceSessions'>,
  rawDeviceId: unknown,
): Promise<{ key: DeviceKey; credentials: IssuedCredentials }> {
  const tenantId = requireWriter(session.scope);
  const key = { tenantId, deviceId: parseInput(updateDeviceSchema.shape.deviceId, rawDeviceId, ['deviceId']) };
  await lockActiveDevice(session, key);
  const credentials = await issueDeviceCredentials(session, key);
  // A session opened with the old password would otherwise live on until the device reconnects.
  session.afterCommit(async () => services.deviceSessions.disconnect(key.tenantId, key.deviceId));
  return { key, credentials };
}

/** Locks the device row (FOR NO KEY UPDATE) until the transaction ends; NotFound unless active. */
async function lockActiveDevice(session: TenantSession, key: DeviceKey): Promise<void> {
  const locked = await session.db.$queryRaw<unknown[]>`
    SELECT 1 FROM device_registry
    WHERE tenant_id = ${key.tenantId} AND device_id = ${key.deviceId} AND decommissioned_at IS NULL
    FOR NO KEY UPDATE`;
  if (locked.length === 0) throw new NotFoundError('Device', key.deviceId);
}

/** Throws NotFound unless the device exists in the caller's view and is not decommissioned. */
export async function findActiveDevice(session: TenantSession, key: DeviceKey): Promise<void> {
  const device = await session.db.device.findUnique({ where: { tenantId_deviceId: key }, select: { decommissionedAt: true } });
  if (!device || device.decommissionedAt) throw new NotFoundError('Device', key.deviceId);
}

/**
 * The SQL condition (over `device_registry d`) of a device list: the caller's tenant (RLS enforces
 * it as well; the explicit predicate lets the planner use the tenant-leading indexes; operators
 * may pick one tenant or see all), active devices unless `includeDecommissioned`, and the filter.
 */
export async function deviceListCondition(session: TenantSession, rawFilter: unknown, extra: Prisma.Sql[] = []): Promise<Prisma.Sql> {
  const filter = parseDeviceListFilter(rawFilter);
  const scope = session.scope;
  const tenantId = scope.role === 'operator' ? (filter.tenantId ?? null) : requireTenant(scope);
  const parts: Prisma.Sql[] = [];
  if (tenantId) parts.push(Prisma.sql`d.tenant_id = ${tenantId}`);
  if (!filter.includeDecommissioned) parts.push(Prisma.sql`d.decommissioned_at IS NULL`);
  parts.push(await compileDeviceFilter(filter, { session, tenantId: tenantId ?? '' }), ...extra);
  return Prisma.join(parts, ' AND ');
}
