import { contributedDeviceFilterTerms } from '../../graphql/device-filter-terms.js';
import { builder } from '../../graphql/builder.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { sqlColumn, sqlRead, sqlRelation, sqlTimestamp, sqlValue } from '../../graphql/sql-reads.js';
import { Prisma } from '../../generated/prisma/client.js';
import { namedConnection } from '../../graphql/connections.js';
import { parseDeviceKey } from '../../kernel/device-key.js';
import { lookupTenant } from '../tenants/service.js';
import { deviceListCondition } from './service.js';
import { countDevices, inKeyOrder, keysWhere, pageDeviceKeys } from './store.js';
import type { TenantSession } from '../../db/tenant-session.js';

builder.prismaObject('DeviceTag', {
  name: 'Tag',
  fields: (t) => ({
    key: t.exposeString('key', { extensions: sqlColumn('key') }),
    value: t.exposeString('value', { extensions: sqlColumn('value') }),
  }),
});

/** A device; its global ID encodes tenant and device ID (neither may contain `/`). */
export const DeviceRef = builder.prismaNode('Device', {
  // node(id) of a device outside the caller's view is null, exactly like a device that never existed.
  nullable: true,
  id: {
    resolve: (device) => `${device.tenantId}/${device.deviceId}`,
    extensions: sqlValue((d) => Prisma.sql`${d}.tenant_id || '/' || ${d}.device_id`, (key) => encodeGlobalID('Device', String(key))),
  },
  findUnique: (id) => ({ tenantId_deviceId: parseDeviceKey(id) ?? { tenantId: '', deviceId: '' } }),
  // Each field's `extensions` say how it reads in SQL (graphql/sql-reads.ts): a page that selects
  // only such fields is one statement building its JSON in PostgreSQL (graphql/compiled-reads.ts).
  fields: (t) => ({
    deviceId: t.exposeString('deviceId', { extensions: sqlColumn('device_id') }),
    tenantId: t.exposeString('tenantId', { extensions: sqlColumn('tenant_id') }),
    name: t.exposeString('name', { extensions: sqlColumn('name') }),
    model: t.exposeString('model', { nullable: true, extensions: sqlColumn('model') }),
    firmwareVersion: t.exposeString('firmwareVersion', { nullable: true, extensions: sqlColumn('firmware_version') }),
    serialNumber: t.exposeString('serialNumber', { nullable: true, extensions: sqlColumn('serial_number') }),
    metadata: t.expose('metadata', { type: 'JSONObject', extensions: sqlColumn('metadata') }),
    createdAt: t.expose('createdAt', { type: 'DateTime', extensions: sqlTimestamp('created_at') }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', extensions: sqlTimestamp('updated_at') }),
    decommissionedAt: t.expose('decommissionedAt', { type: 'DateTime', nullable: true, extensions: sqlTimestamp('decommissioned_at') }),
    tags: t.relation('tags', {
      query: { orderBy: { key: 'asc' } },
      extensions: sqlRelation('device_tags', ['tenant_id', 'device_id'], { list: true, orderBy: 'key' }),
    }),
    site: t.relation('site', { nullable: true }),
  }),
});

/** `Query.devices` and `Site.devices`. */
export const DevicesConnection = namedConnection(DeviceRef, 'Devices');

/**
 * The one filter language (devices/filter.ts): every module's terms at one level (all must hold),
 * `and` / `or` / `not` for the rest. Lists add `includeDecommissioned` and, for operators, `tenantId`.
 */
export const DeviceFilterInput = builder.inputRef<{ [field: string]: unknown }>('DeviceFilter').implement({
  description: 'Conditions on devices; all given fields must hold. Shared by device lists, dynamic groups, fleet summaries, subscriptions and group commands',
  fields: (t) => ({
    ...Object.fromEntries(contributedDeviceFilterTerms().map((term) => [term.field, term.input(t)])),
    and: t.field({ type: [DeviceFilterInput], description: 'Every branch holds' }),
    or: t.field({ type: [DeviceFilterInput], description: 'At least one branch holds' }),
    not: t.field({ type: DeviceFilterInput, description: 'The branch does not hold' }),
    includeDecommissioned: t.boolean({ description: 'Lists only (top level): include decommissioned devices' }),
    tenantId: t.string({ description: 'Operators only, top level: restrict to one tenant' }),
  }),
});

/** What Pothos hands a `tenantId_deviceId` connection's resolver: the page and the selection. */
type PrismaPageQuery = { take?: number; skip?: number; cursor?: { tenantId_deviceId?: { tenantId: string; deviceId: string } } } & Record<string, unknown>;

/**
 * A page of devices matching `condition`: the page's keys in one bounded statement, then the rows
 * with the client's selection (relations joined) in one more. Used by every device connection.
 */
export async function resolveDevicePage(session: TenantSession, query: PrismaPageQuery, condition: Prisma.Sql) {
  const { take, skip, cursor, ...selection } = query;
  const keys = await pageDeviceKeys(session, condition, { take, skip, cursor: cursor?.tenantId_deviceId });
  if (keys.length === 0) return [];
  const rows = await session.db.device.findMany({ ...(selection as object), relationLoadStrategy: 'join', where: keysWhere(keys) });
  return inKeyOrder(keys, rows);
}

/** Page sizes of `Query.devices`, the same for its resolver and its compiled read. */
const DEVICE_PAGE_SIZES = { defaultSize: 50, maxSize: 500 } as const;

builder.queryFields((t) => ({
  device: t.prismaField({
    type: 'Device',
    nullable: true,
    description: "A device of the caller's tenant (operators may name another tenant); null when it does not exist",
    args: { deviceId: t.arg.string({ required: true }), tenantId: t.arg.string() },
    extensions: sqlRead({
      kind: 'row',
      table: 'device_registry',
      alias: 'd',
      condition: (args, session) =>
        Prisma.sql`d.tenant_id = ${lookupTenant(session.scope, args['tenantId'] as string | null | undefined)} AND d.device_id = ${args['deviceId'] as string}`,
    }),
    resolve: (query, _root, args, ctx) =>
      ctx.session.db.device.findUnique({
        ...query,
        relationLoadStrategy: 'join',
        where: { tenantId_deviceId: { tenantId: lookupTenant(ctx.scope, args.tenantId), deviceId: args.deviceId } },
      }),
  }),
  devices: t.prismaConnection(
    {
      type: 'Device',
      cursor: 'tenantId_deviceId',
      ...DEVICE_PAGE_SIZES,
      args: { filter: t.arg({ type: DeviceFilterInput }) },
      extensions: sqlRead({
        kind: 'page',
        table: 'device_registry',
        alias: 'd',
        condition: (args, session) => deviceListCondition(session, args['filter']),
        key: [
          { column: 'tenant_id', field: 'tenantId' },
          { column: 'device_id', field: 'deviceId' },
        ],
        ...DEVICE_PAGE_SIZES,
      }),
      resolve: async (query, _root, args, ctx) =>
        resolveDevicePage(ctx.session, query as PrismaPageQuery, await deviceListCondition(ctx.session, args.filter)),
      totalCount: async (_root, args, ctx) => countDevices(ctx.session, await deviceListCondition(ctx.session, args.filter)),
    },
    DevicesConnection,
  ),
}));
