import type { PulseEvents } from '../../events/events.js';
import { builder } from '../../graphql/builder.js';
import { DeviceEventInterface, deviceEvents } from '../devices/device-event.js';
import { groupScope } from '../groups/subscriptions.js';
import { requireTenant } from '../tenants/service.js';
import { DeviceTwinRef, TwinDirection, TwinSyncStatus } from './schema.js';

type TwinChanged = PulseEvents['deviceTwinChanged'];

const DeviceTwinChangedEvent = builder.objectRef<TwinChanged>('DeviceTwinChangedEvent').implement({
  interfaces: [DeviceEventInterface],
  fields: (t) => ({
    direction: t.field({ type: TwinDirection, resolve: (event) => event.direction }),
    desiredVersion: t.exposeInt('desiredVersion', { description: 'Desired version right after this change' }),
    reportedVersion: t.exposeInt('reportedVersion', { description: 'Reported version right after this change' }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
    syncStatus: t.field({
      type: TwinSyncStatus,
      nullable: true,
      description: 'Sync status right after this change; twin.syncStatus is the current one',
      resolve: (event) => event.syncStatus ?? null,
    }),
    twin: t.prismaField({
      type: DeviceTwinRef,
      nullable: true,
      description: 'The twin as it is now, read in the subscriber’s own tenant scope',
      resolve: (query, event, _args, ctx) =>
        ctx.session.db.deviceState.findUnique({ ...query, where: { tenantId_deviceId: { tenantId: event.tenantId, deviceId: event.deviceId } } }),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  deviceTwinChanged: t.field({
    type: DeviceTwinChangedEvent,
    description: "Desired writes and device reports in the caller's tenant after they commit: of one device, or of the members of a group",
    args: { deviceId: t.arg.string(), groupId: t.arg.string() },
    subscribe: async (_root, args, ctx) => {
      const inGroup = await groupScope(ctx, args.groupId);
      return deviceEvents(
        ctx,
        ctx.events.subscribe('deviceTwinChanged', requireTenant(ctx.scope)),
        async (event: TwinChanged) => (!args.deviceId || event.deviceId === args.deviceId) && inGroup(event),
      );
    },
    resolve: (event) => event,
  }),
}));
