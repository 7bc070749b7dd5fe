import { builder } from '../../graphql/builder.js';
import { DeviceFilterInput, DevicesConnection, resolveDevicePage } from '../devices/schema.js';
import { deviceListCondition } from '../devices/service.js';
import { countDevices } from '../devices/store.js';
import { lookupTenant, requireTenant } from '../tenants/service.js';
import { groupMembershipSql, type GroupRecord } from './membership.js';
import { namedConnection } from '../../graphql/connections.js';

export const DeviceGroupType = builder.enumType('DeviceGroupType', {
  values: {
    STATIC: { value: 'static', description: 'Members are added and removed explicitly' },
    DYNAMIC: { value: 'dynamic', description: 'Members are the devices its filter matches, evaluated at each read' },
  } as const,
});

type PageQuery = Parameters<typeof resolveDevicePage>[1];

/** The membership condition of a group for a device page (optionally narrowed by a filter). */
async function membersCondition(session: Parameters<typeof groupMembershipSql>[0], group: GroupRecord, filter: unknown) {
  return deviceListCondition(session, { ...((filter as object | null) ?? {}), tenantId: group.tenantId }, [await groupMembershipSql(session, group)]);
}

export const DeviceGroupRef = builder.prismaNode('DeviceGroup', {
  nullable: true,
  id: { resolve: (group) => `${group.tenantId}/${group.groupId}` },
  findUnique: (id) => {
    const slash = id.indexOf('/');
    return { tenantId_groupId: { tenantId: id.slice(0, Math.max(0, slash)), groupId: id.slice(slash + 1) } };
  },
  select: { tenantId: true, groupId: true, groupType: true, queryFilter: true },
  fields: (t) => ({
    groupId: t.exposeString('groupId'),
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    groupType: t.field({ type: DeviceGroupType, resolve: (group) => group.groupType as 'static' | 'dynamic' }),
    queryFilter: t.field({
      type: 'JSONObject',
      nullable: true,
      description: "A dynamic group's filter as stored: { version, filter } (the DeviceFilter fields)",
      resolve: (group) => group.queryFilter,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    members: t.prismaConnection(
      {
        type: 'Device',
        cursor: 'tenantId_deviceId',
        defaultSize: 50,
        maxSize: 500,
        description: 'The current members (a dynamic group: the devices its filter matches now), in deviceId order',
        args: { filter: t.arg({ type: DeviceFilterInput, description: 'Narrows the members further' }) },
        // Keys in SQL (the group's condition never leaves the database), then the rows: a page of a
        // 10,000-member group is one bounded statement plus one for the page's rows.
        resolve: async (query, group, args, ctx) =>
          resolveDevicePage(ctx.session, query as PageQuery, await membersCondition(ctx.session, group as GroupRecord, args.filter)),
        totalCount: async (group, args, ctx) => countDevices(ctx.session, await membersCondition(ctx.session, group as GroupRecord, args.filter)),
      },
      DevicesConnection,
    ),
    memberCount: t.int({
      description: 'How many devices are members now (one count statement)',
      resolve: async (group, _args, ctx) => countDevices(ctx.session, await membersCondition(ctx.session, group as GroupRecord, null)),
    }),
  }),
});

const DeviceGroupsConnection = namedConnection(DeviceGroupRef, 'DeviceGroups');

builder.queryFields((t) => ({
  deviceGroup: t.prismaField({
    type: DeviceGroupRef,
    nullable: true,
    description: "A group of the caller's tenant by its groupId (node(id) takes its global ID)",
    args: { groupId: t.arg.string({ required: true }), tenantId: t.arg.string() },
    resolve: (query, _root, args, ctx) =>
      ctx.session.db.deviceGroup.findUnique({ ...query, where: { tenantId_groupId: { tenantId: lookupTenant(ctx.scope, args.tenantId), groupId: args.groupId } } }),
  }),
  deviceGroups: t.prismaConnection(
    {
      type: DeviceGroupRef,
      cursor: 'tenantId_groupId',
      defaultSize: 50,
      maxSize: 500,
      args: { groupType: t.arg({ type: DeviceGroupType }) },
      resolve: (query, _root, args, ctx) =>
        ctx.session.db.deviceGroup.findMany({
          ...query,
          where: { tenantId: requireTenant(ctx.scope), ...(args.groupType && { groupType: args.groupType }) },
          orderBy: [{ tenantId: 'asc' }, { groupId: 'asc' }],
        }),
      totalCount: (_root, args, ctx) =>
        ctx.session.db.deviceGroup.count({ where: { tenantId: requireTenant(ctx.scope), ...(args.groupType && { groupType: args.groupType }) } }),
    },
    DeviceGroupsConnection,
  ),
}));

