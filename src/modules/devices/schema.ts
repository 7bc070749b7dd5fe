import { contributedDeviceFilterTerms } from '../../graphql/device-filter-terms.js';
import { builder } from '../../graphql/builder.js';
import { parseDeviceKey } from '../../kernel/device-key.js';
import { lookupTenant } from '../tenants/service.js';
import { deviceListWhere } from './service.js';

builder.prismaObject('DeviceTag', {
  name: 'Tag',
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

/** A device; its global ID encodes tenant and device ID (neither may contain `/`). */
export const DeviceRef = builder.prismaNode('Device', {
  // node(id) of a device outside the caller's view is null, exactly like a device that never existed.
  nullable: true,
  id: { resolve: (device) => `${device.tenantId}/${device.deviceId}` },
  findUnique: (id) => ({ tenantId_deviceId: parseDeviceKey(id) ?? { tenantId: '', deviceId: '' } }),
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

/** The device's own fields, then those other modules contribute (their module descriptors' `deviceFilters`). */
export const DeviceFilterInput = builder.inputType('DeviceFilter', {
  fields: (t) => ({
    siteId: t.string(),
    tags: t.field({ type: [TagFilterInput], description: 'Every tag filter must match' }),
    search: t.string({ description: 'Case-insensitive substring of deviceId or name' }),
    includeDecommissioned: t.boolean(),
    tenantId: t.string({ description: 'Operators only: restrict to one tenant' }),
    ...Object.fromEntries(contributedDeviceFilterTerms().map((term) => [term.field, term.input(t)])),
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
