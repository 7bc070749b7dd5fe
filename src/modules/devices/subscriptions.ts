import type { PulseEvents } from '../../events/events.js';
import { builder } from '../../graphql/builder.js';
import { DeviceEventInterface, deviceEvents } from './device-event.js';
import { requireTenant } from '../tenants/service.js';

const DeviceChange = builder.enumType('DeviceChange', { values: ['REGISTERED', 'UPDATED', 'DECOMMISSIONED'] as const });

const DeviceChangedEvent = builder.objectRef<PulseEvents['deviceChanged']>('DeviceChangedEvent').implement({
  interfaces: [DeviceEventInterface],
  fields: (t) => ({
    change: t.field({ type: DeviceChange, resolve: (event) => event.change }),
  }),
});

builder.subscriptionFields((t) => ({
  deviceChanged: t.field({
    type: DeviceChangedEvent,
    description: "Registrations, updates and decommissions in the caller's tenant, optionally of one device",
    args: { deviceId: t.arg.string() },
    subscribe: (_root, args, ctx) =>
      deviceEvents(ctx, ctx.events.subscribe('deviceChanged', requireTenant(ctx.scope)), (event) => !args.deviceId || event.deviceId === args.deviceId),
    resolve: (event) => event,
  }),
}));
