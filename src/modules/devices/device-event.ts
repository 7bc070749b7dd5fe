import { builder } from '../../graphql/builder.js';

/** What every device event payload carries: whose device it is about. */
export interface DeviceEventKey {
  tenantId: string;
  deviceId: string;
}

/**
 * Fields every subscription event about a device shares. `device` is re-read when the event is
 * delivered, in the subscriber's own tenant scope (row-level security applies), through the
 * subscriber's own selection — so nested fields stay one Prisma call.
 */
export const DeviceEventInterface = builder.interfaceRef<DeviceEventKey>('DeviceEvent').implement({
  fields: (t) => ({
    deviceId: t.exposeString('deviceId'),
    device: t.prismaField({
      type: 'Device',
      nullable: true,
      description: "The device as it is now, read in the subscriber's own tenant scope",
      resolve: (query, event, _args, ctx) =>
        ctx.session.db.device.findUnique({ ...query, where: { tenantId_deviceId: { tenantId: event.tenantId, deviceId: event.deviceId } } }),
    }),
  }),
});
