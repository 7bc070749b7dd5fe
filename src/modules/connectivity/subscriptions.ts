import { groupScope } from '../groups/subscriptions.js';
import type { PulseEvents } from '../../events/events.js';
import { builder } from '../../graphql/builder.js';
import { DeviceEventInterface, deviceEvents } from '../devices/device-event.js';
import { DeviceStatus } from './device-fields.js';
import { requireTenant } from '../tenants/service.js';
import { ConnectionEventType } from './schema.js';
import type { PresenceStatus } from '../../kernel/presence.js';

type ConnectivityEvent = PulseEvents['deviceConnectivityChanged'];

const DeviceConnectivityChangedEvent = builder.objectRef<ConnectivityEvent>('DeviceConnectivityChangedEvent').implement({
  interfaces: [DeviceEventInterface],
  fields: (t) => ({
    eventId: t.exposeID('eventId', { description: 'The id of the connectivity log entry' }),
    eventType: t.field({ type: ConnectionEventType, resolve: (event) => (event.status === 'ONLINE' ? 'CONNECTED' : 'DISCONNECTED') }),
    previousStatus: t.field({ type: DeviceStatus, nullable: true, description: "Null for the device's first transition", resolve: (event) => event.previousStatus }),
    status: t.field({ type: DeviceStatus, resolve: (event) => event.status as PresenceStatus }),
    reason: t.exposeString('reason'),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
  }),
});

builder.subscriptionFields((t) => ({
  deviceConnectivityChanged: t.field({
    type: DeviceConnectivityChangedEvent,
    description:
      "Every presence transition in the caller's tenant after it committed, optionally of one device or of the members of one static or dynamic group (membership checked when each event arrives)",
    args: { deviceId: t.arg.string(), groupId: t.arg.string() },
    subscribe: async (_root, args, ctx) => {
      const tenantId = requireTenant(ctx.scope);
      const { deviceId } = args;
      const inGroup = await groupScope(ctx, args.groupId);
      return deviceEvents(
        ctx,
        ctx.events.subscribe('deviceConnectivityChanged', tenantId),
        async (event: ConnectivityEvent) => (!deviceId || event.deviceId === deviceId) && inGroup(event),
      );
    },
    resolve: (event) => event,
  }),
}));
