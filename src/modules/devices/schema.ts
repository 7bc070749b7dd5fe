import { builder } from '../../graphql/builder.js';
import { ConnectionTypeEnum, NetworkStatusEnum, SimStatusEnum } from '../connections/enums.js';
import { lookupTenant } from '../tenants/service.js';
import { deviceListWhere } from './service.js';

export const DeviceStatus = builder.enumType('DeviceStatus', {
  values: {
    ONLINE: { description: 'Connected and heard from within its stale timeout' },
    STALE: { description: 'Not heard from within its stale timeout, not yet offline' },
    OFFLINE: { description: 'Disconnected, or silent past its offline timeout' },
  } as const,
});

builder.prismaObject('DeviceTag', {
  name: 'Tag',
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

/** A device; its global ID encodes tenant and device ID (neither may contain `/`). */
export const DeviceRef = builder.prismaNode('Device', {
  // node(id) of a device outside the caller's view is null, exactly like a device that never existed.
  nullable: true,
  id: { resolve: (device) => `${device.tenantId}/${device.deviceId}` },
  findUnique: (id) => {
    const slash = id.indexOf('/');
    return { tenantId_deviceId: { tenantId: id.slice(0, slash), deviceId: id.slice(slash + 1) } };
  },
  fields: (t) => ({
    deviceId: t.exposeString('deviceId'),
    tenantId: t.exposeString('tenantId'),
    name: t.exposeString('name'),
    model: t.exposeString('model', { nullable: true }),
    firmwareVersion: t.exposeString('firmwareVersion', { nullable: true }),
    serialNumber: t.exposeString('serialNumber', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSONObject' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    decommissionedAt: t.expose('decommissionedAt', { type: 'DateTime', nullable: true }),
    status: t.field({
      type: DeviceStatus,
      select: { state: { select: { status: true } } },
      resolve: (device) => (device.state?.status ?? 'OFFLINE') as 'ONLINE' | 'STALE' | 'OFFLINE',
    }),
    lastSeenAt: t.field({
      type: 'DateTime',
      nullable: true,
      select: { state: { select: { lastSeenAt: true } } },
      resolve: (device) => device.state?.lastSeenAt ?? null,
    }),
    tags: t.relation('tags', { query: { orderBy: { key: 'asc' } } }),
    site: t.relation('site', { nullable: true }),
  }),
});

const TagFilterInput = builder.inputType('TagFilter', {
  fields: (t) => ({
    key: t.string({ required: true }),
    value: t.string({ description: 'Omit to match any value of the key' }),
  }),
});

export const DeviceFilterInput = builder.inputType('DeviceFilter', {
  fields: (t) => ({
    status: t.field({ type: [DeviceStatus] }),
    siteId: t.string(),
    tags: t.field({ type: [TagFilterInput], description: 'Every tag filter must match' }),
    search: t.string({ description: 'Case-insensitive substring of deviceId or name' }),
    includeDecommissioned: t.boolean(),
    tenantId: t.string({ description: 'Operators only: restrict to one tenant' }),
    carrier: t.string({ description: "The connection's carrier name (case-insensitive)" }),
    connectionType: t.field({ type: [ConnectionTypeEnum] }),
    simStatus: t.field({ type: [SimStatusEnum] }),
    networkStatus: t.field({ type: [NetworkStatusEnum] }),
    overDataLimit: t.boolean({ description: 'true: usage above a set data limit; false: all others, devices without a connection included' }),
  }),
});

builder.queryFields((t) => ({
  device: t.prismaField({
    type: 'Device',
    nullable: true,
    description: "A device of the caller's tenant (operators may name another tenant); null when it does not exist",
    args: { deviceId: t.arg.string({ required: true }), tenantId: t.arg.string() },
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
      defaultSize: 50,
      maxSize: 500,
      args: { filter: t.arg({ type: DeviceFilterInput }) },
      resolve: (query, _root, args, ctx) =>
        ctx.session.db.device.findMany({
          ...query,
          // Relations selected below come back in the same statement (see prisma/schema.prisma).
          relationLoadStrategy: 'join',
          where: deviceListWhere(ctx.scope, args.filter),
          orderBy: [{ tenantId: 'asc' }, { deviceId: 'asc' }],
        }),
      totalCount: (_root, args, ctx) => ctx.session.db.device.count({ where: deviceListWhere(ctx.scope, args.filter) }),
    },
  ),
}));
