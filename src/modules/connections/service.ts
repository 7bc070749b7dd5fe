import { Prisma } from '../../generated/prisma/client.js';
import { ForbiddenError, NotFoundError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { applyNetworkEvent } from '../connectivity/presence.js';
import { requireTenant, requireWriter } from '../tenants/service.js';
import { connectionWriteError } from './errors.js';
import { recordDataUsageSchema, upsertConnectionSchema, type UpsertConnectionInput } from './inputs.js';

export type DeviceKey = { tenantId: string; deviceId: string };

/** The writable columns, their SQL names and casts (a fixed whitelist: the only SQL built from names). */
const COLUMNS = {
  connectionType: ['connection_type', 'text'],
  carrierName: ['carrier_name', 'text'],
  carrierAccountId: ['carrier_account_id', 'text'],
  planName: ['plan_name', 'text'],
  apn: ['apn', 'text'],
  simIccid: ['sim_iccid', 'text'],
  simStatus: ['sim_status', 'text'],
  dataLimitMb: ['data_limit_mb', 'int'],
  billingCycleStart: ['billing_cycle_start', 'int'],
  ipAddress: ['ip_address', 'inet'],
  msisdn: ['msisdn', 'text'],
  networkStatus: ['network_status', 'text'],
  lastNetworkAttach: ['last_network_attach', 'timestamptz'],
  lastNetworkDetach: ['last_network_detach', 'timestamptz'],
  metadata: ['metadata', 'jsonb'],
} as const satisfies Record<Exclude<keyof UpsertConnectionInput, 'deviceId'>, readonly [string, string]>;

export type ConnectionValues = Partial<Omit<UpsertConnectionInput, 'deviceId'>>;

type NetworkSnapshot = { networkStatus: string | null; lastNetworkAttach: Date | null; lastNetworkDetach: Date | null };

/** Locks the device row (NO KEY UPDATE: inserts referencing it still pass) so writes of one device serialise. */
async function lockActiveDevice(session: TenantSession, key: DeviceKey): Promise<void> {
  const rows = await session.db.$queryRaw<unknown[]>`
    SELECT 1 FROM device_registry
    WHERE tenant_id = ${key.tenantId} AND device_id = ${key.deviceId} AND decommissioned_at IS NULL
    FOR NO KEY UPDATE`;
  if (rows.length === 0) throw new NotFoundError('Device', key.deviceId);
}

/**
 * Inserts or updates a device's connection in one statement: given fields are written (null
 * clears), omitted ones keep their value (or the column default on insert). Database errors are
 * mapped to typed errors (errors.ts). Exported for tests that check that mapping directly.
 */
export async function writeDeviceConnection(session: TenantSession, key: DeviceKey, values: ConnectionValues): Promise<void> {
  const fields = (Object.keys(COLUMNS) as Array<keyof typeof COLUMNS>).filter((field) => values[field] !== undefined);
  const columns = fields.map((field) => Prisma.raw(COLUMNS[field][0]));
  const params = fields.map((field) => {
    const value = values[field];
    const cast = Prisma.raw(COLUMNS[field][1]);
    return Prisma.sql`${field === 'metadata' ? JSON.stringify(value) : value}::${cast}`;
  });
  const onConflict =
    fields.length === 0
      ? Prisma.sql`DO NOTHING`
      : Prisma.sql`DO UPDATE SET ${Prisma.join(columns.map((column) => Prisma.sql`${column} = EXCLUDED.${column}`))}`;
  const insertColumns = Prisma.join([Prisma.raw('tenant_id'), Prisma.raw('device_id'), ...columns]);
  const insertValues = Prisma.join([Prisma.sql`${key.tenantId}`, Prisma.sql`${key.deviceId}`, ...params]);
  try {
    await session.db.$executeRaw`
      INSERT INTO device_connections (${insertColumns}) VALUES (${insertValues})
      ON CONFLICT (tenant_id, device_id) ${onConflict}`;
  } catch (error) {
    throw connectionWriteError(error, key.deviceId) ?? error;
  }
}

/**
 * A change of network status without a time of its own happened now; on a first write there is
 * no "change", so only explicit times count there.
 */
function withImpliedNetworkTimes(values: ConnectionValues, previous: NetworkSnapshot | null, now: Date): ConnectionValues {
  if (!previous || !values.networkStatus || values.networkStatus === previous.networkStatus) return values;
  if (values.networkStatus === 'disconnected' && values.lastNetworkDetach === undefined) return { ...values, lastNetworkDetach: now };
  if (values.networkStatus === 'connected' && values.lastNetworkAttach === undefined) return { ...values, lastNetworkAttach: now };
  return values;
}

/** Attach and detach times this write moved forward, oldest first: each becomes a connectivity event. */
function networkEvents(previous: NetworkSnapshot | null, values: ConnectionValues): Array<{ kind: 'ATTACH' | 'DETACH'; at: Date }> {
  const advanced = (next: Date | null | undefined, before: Date | null | undefined) => (next && (!before || next > before) ? next : null);
  const attach = advanced(values.lastNetworkAttach, previous?.lastNetworkAttach);
  const detach = advanced(values.lastNetworkDetach, previous?.lastNetworkDetach);
  const events = [
    ...(attach ? [{ kind: 'ATTACH' as const, at: attach }] : []),
    ...(detach ? [{ kind: 'DETACH' as const, at: detach }] : []),
  ];
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/**
 * Creates or updates the connection of an active device of the caller's tenant. Network attach
 * and detach times that move forward (or a network status change, timed now) feed the
 * connectivity log as NETWORK_ATTACH / NETWORK_DETACH, so a dashboard can tell a carrier detach
 * from an application that went down.
 */
export async function upsertDeviceConnection(session: TenantSession, rawInput: unknown, now = new Date()): Promise<DeviceKey> {
  const { deviceId, ...input } = parseInput(upsertConnectionSchema, rawInput);
  const tenantId = requireWriter(session.scope);
  const key = { tenantId, deviceId };
  await lockActiveDevice(session, key);
  const previous = await session.db.deviceConnection.findUnique({
    where: { tenantId_deviceId: key },
    select: { networkStatus: true, lastNetworkAttach: true, lastNetworkDetach: true },
  });
  const values = withImpliedNetworkTimes(input, previous, now);
  await writeDeviceConnection(session, key, values);
  for (const event of networkEvents(previous, values)) {
    await applyNetworkEvent(session, key, event.kind, event.at, { source: 'connection', networkStatus: values.networkStatus });
  }
  session.publish('deviceConnectionChanged', { ...key, change: previous ? 'UPDATED' : 'CREATED' });
  return key;
}

/** Deletes a device's connection; NotFound when it has none. */
export async function deleteDeviceConnection(session: TenantSession, rawDeviceId: unknown): Promise<DeviceKey> {
  const tenantId = requireWriter(session.scope);
  const key = { tenantId, deviceId: parseInput(idSchema, rawDeviceId, ['deviceId']) };
  const { count } = await session.db.deviceConnection.deleteMany({ where: key });
  if (count === 0) throw new NotFoundError('DeviceConnection', key.deviceId);
  session.publish('deviceConnectionChanged', { ...key, change: 'DELETED' });
  return key;
}

/**
 * Stores a carrier usage sync (IoT service role only). A sync older than the stored one is
 * ignored (`applied: false`), so out-of-order deliveries never move the figure back.
 */
export async function recordDataUsage(session: TenantSession, rawInput: unknown, now = new Date()): Promise<{ key: DeviceKey; applied: boolean }> {
  if (session.scope.role !== 'iot_service') throw new ForbiddenError('recordDataUsage is reserved to the IoT service role');
  const input = parseInput(recordDataUsageSchema, rawInput);
  const key = { tenantId: input.tenantId ?? requireTenant(session.scope), deviceId: input.deviceId };
  const applied = await storeDataUsage(session, key, input.dataUsedMb, input.measuredAt ?? now);
  if (applied) session.publish('deviceConnectionChanged', { ...key, change: 'UPDATED' });
  return { key, applied };
}

/**
 * The conditional write behind {@link recordDataUsage}: one statement that only moves forward in
 * time. Returns whether it applied; NotFound when the device has no connection. Exported for
 * tests of the database error mapping.
 */
export async function storeDataUsage(session: TenantSession, key: DeviceKey, dataUsedMb: number, at: Date): Promise<boolean> {
  let updated: number;
  try {
    updated = await session.db.$executeRaw`
      UPDATE device_connections SET data_used_mb = ${dataUsedMb}::numeric, data_used_updated_at = ${at}::timestamptz
      WHERE tenant_id = ${key.tenantId} AND device_id = ${key.deviceId}
        AND (data_used_updated_at IS NULL OR data_used_updated_at <= ${at}::timestamptz)`;
  } catch (error) {
    throw connectionWriteError(error, key.deviceId) ?? error;
  }
  if (updated > 0) return true;
  const exists = await session.db.deviceConnection.findUnique({ where: { tenantId_deviceId: key }, select: { id: true } });
  if (!exists) throw new NotFoundError('DeviceConnection', key.deviceId);
  return false;
}
