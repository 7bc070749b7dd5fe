import type { PulseEvents } from '../../events/events.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { builder } from '../../graphql/builder.js';
import { DeviceEventInterface, deviceEvents } from '../devices/device-event.js';
import { requireTenant } from '../tenants/service.js';
import { findGroup, isGroupMember, type GroupRecord } from './membership.js';

/**
 * Membership checks shared by every subscriber of one event: the bus hands each subscriber the
 * same event object, so "is this event's device in group G" is one indexed statement per event
 * and group, however many dashboards watch G. Keyed weakly by the event.
 */
const sharedChecks = new WeakMap<object, Map<string, Promise<boolean>>>();

function memberForEvent(ctx: GraphQLContext, group: GroupRecord, event: { deviceId: string }): Promise<boolean> {
  let checks = sharedChecks.get(event);
  if (!checks) sharedChecks.set(event, (checks = new Map()));
  let check = checks.get(group.groupId);
  if (!check) {
    // A dynamic group's filter is read again for each event (shared too), so a filter changed
    // after the subscription started applies from the next event, and a deleted group ends the
    // subscription with NotFound. A static group's member rows are live already.
    check =
      group.groupType === 'static'
        ? isGroupMember(ctx.session, group, event.deviceId)
        : findGroup(ctx.session, group.tenantId, group.groupId).then((current) => isGroupMember(ctx.session, current, event.deviceId));
    checks.set(group.groupId, check);
  }
  return check;
}

/**
 * The event filter of a subscription scoped to a static or dynamic group: the group is looked up
 * when the subscription starts (NotFound then), and each event passes when its device is a member
 * at that moment (a dynamic group's current filter evaluated in SQL).
 */
export async function groupScope(ctx: GraphQLContext, groupId: string | null | undefined): Promise<(event: { deviceId: string }) => Promise<boolean>> {
  if (!groupId) return async () => true;
  const group = await findGroup(ctx.session, requireTenant(ctx.scope), groupId);
  return (event) => memberForEvent(ctx, group, event);
}

type MembershipChanged = PulseEvents['deviceGroupMembershipChanged'];

const MembershipChange = builder.enumType('DeviceGroupMembershipChange', {
  values: { JOINED: { description: 'The device became a member' }, LEFT: { description: 'The device is no longer a member' } } as const,
});

const MembershipChangedEvent = builder.objectRef<MembershipChanged>('DeviceGroupMembershipChangedEvent').implement({
  interfaces: [DeviceEventInterface],
  fields: (t) => ({
    groupId: t.exposeString('groupId'),
    change: t.field({ type: MembershipChange, resolve: (event) => event.change }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
  }),
});

builder.subscriptionFields((t) => ({
  deviceGroupMembershipChanged: t.field({
    type: MembershipChangedEvent,
    description: 'Devices joining or leaving a group: static adds and removes, and devices starting or stopping to match a dynamic group after a change commits',
    args: { groupId: t.arg.string({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const tenantId = requireTenant(ctx.scope);
      await findGroup(ctx.session, tenantId, args.groupId);
      return deviceEvents(ctx, ctx.events.subscribe('deviceGroupMembershipChanged', tenantId), (event: MembershipChanged) => event.groupId === args.groupId);
    },
    resolve: (event) => event,
  }),
}));
