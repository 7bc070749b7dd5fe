import { builder } from '../../graphql/builder.js';

/** What every device event payload carries: whose device it is about. */
export interface DeviceEventKey {
  tenantId: string;
  deviceId: string;
}

/**
 * Reads shared by the subscribers of one event. The in-process bus (and each instance's Redis
 * listener) hands every subscriber the same event object, so an event's subscribers with the
 * same role and the same selection get the same rows: read once, not once per subscriber.
 * Keyed weakly by the event, so entries go when the event does.
 */
const sharedReads = new WeakMap<object, Map<string, Promise<unknown>>>();

function readOnce<T>(event: object, key: string, read: () => Promise<T>): Promise<T> {
  let reads = sharedReads.get(event);
  if (!reads) sharedReads.set(event, (reads = new Map()));
  let pending = reads.get(key) as Promise<T> | undefined;
  if (!pending) {
    pending = read();
    reads.set(key, pending);
  }
  return pending;
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
        // Channels are per tenant, so subscribers of one event share the tenant; the role decides
        // what RLS shows (operator or customer), the selection decides the shape.
        readOnce(event, `${ctx.scope.tenantId}|${ctx.scope.role}|${JSON.stringify(query)}`, () =>
          ctx.session.db.device.findUnique({ ...query, where: { tenantId_deviceId: { tenantId: event.tenantId, deviceId: event.deviceId } } }),
        ),
    }),
  }),
});
