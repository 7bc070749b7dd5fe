import { filter, pipe } from 'graphql-yoga';
import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { PulseEvents } from '../../events/events.js';
import { builder } from '../../graphql/builder.js';
import { DeviceEventInterface } from '../devices/device-event.js';
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

/**
 * Group scoping. Static groups only, by their member list (device_group_members); dynamic groups
 * are refused until the groups module resolves their filters, which should replace this check.
 */
async function assertStaticGroup(session: TenantSession, tenantId: string, groupId: string): Promise<void> {
  const group = await session.db.deviceGroup.findUnique({ where: { tenantId_groupId: { tenantId, groupId } }, select: { groupType: true } });
  if (!group) throw new NotFoundError('DeviceGroup', groupId);
  if (group.groupType !== 'static') throw ValidationError.single(['groupId'], 'only static groups can scope this subscription for now', 'UNSUPPORTED_GROUP');
}

async function isStaticMember(session: TenantSession, tenantId: string, groupId: string, deviceId: string): Promise<boolean> {
  const member = await session.db.deviceGroupMember.findUnique({
    where: { tenantId_groupId_deviceId: { tenantId, groupId, deviceId } },
    select: { deviceId: true },
  });
  return member !== null;
}

builder.subscriptionFields((t) => ({
  deviceConnectivityChanged: t.field({
    type: DeviceConnectivityChangedEvent,
    description:
      "Every presence transition in the caller's tenant after it committed, optionally of one device or of the members of one static group (checked when each event arrives)",
    args: { deviceId: t.arg.string(), groupId: t.arg.string() },
    subscribe: async (_root, args, ctx) => {
      const tenantId = requireTenant(ctx.scope);
      const { deviceId, groupId } = args;
      if (groupId) await assertStaticGroup(ctx.session, tenantId, groupId);
      return pipe(
        ctx.events.subscribe('deviceConnectivityChanged', tenantId),
        filter(async (event: ConnectivityEvent) => {
          if (deviceId && event.deviceId !== deviceId) return false;
          return !groupId || isStaticMember(ctx.session, tenantId, groupId, event.deviceId);
        }),
      );
    },
    resolve: (event) => event,
  }),
}));
