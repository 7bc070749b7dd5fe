import type { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { batchLoad } from '../../graphql/batch-load.js';
import { groupMembershipSql, type GroupRecord } from './membership.js';
import { DeviceGroupRef } from './schema.js';
import { groupsOfDevices } from './store.js';

builder.prismaObjectField('Device', 'groups', (t) =>
  t.prismaField({
    type: [DeviceGroupRef],
    description: 'The static groups listing the device and the dynamic groups whose filter it matches now',
    select: { tenantId: true, deviceId: true },
    // Batched per page: one statement for every device's memberships, one for the groups' rows.
    resolve: async (query, device, _args, ctx) => {
      const groups = await batchLoad(ctx, `groups|${device.tenantId}|${JSON.stringify(query)}`, device.deviceId, async (deviceIds) => {
        const dynamic = (await ctx.session.db.deviceGroup.findMany({
          where: { tenantId: device.tenantId, groupType: 'dynamic' },
          select: { tenantId: true, groupId: true, groupType: true, queryFilter: true },
        })) as GroupRecord[];
        const conditions = new Map<string, Prisma.Sql>();
        for (const group of dynamic) {
          try {
            conditions.set(group.groupId, await groupMembershipSql(ctx.session, group));
          } catch {
            // A stored filter that no longer compiles matches nothing.
          }
        }
        const memberships = await groupsOfDevices(ctx.session, device.tenantId, deviceIds, conditions);
        const rows = await ctx.session.db.deviceGroup.findMany({
          ...query,
          where: { tenantId: device.tenantId, groupId: { in: [...new Set(memberships.map((row) => row.group_id))] } },
          orderBy: { name: 'asc' },
        });
        const byDevice = new Map<string, typeof rows>(deviceIds.map((id) => [id, []]));
        for (const row of rows) {
          for (const membership of memberships) if (membership.group_id === row.groupId) byDevice.get(membership.device_id)?.push(row);
        }
        return byDevice;
      });
      return groups ?? [];
    },
  }),
);
