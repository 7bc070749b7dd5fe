import { filter, pipe } from 'graphql-yoga';
import type { PulseEvents } from '../../events/events.js';
import { builder } from '../../graphql/builder.js';
import { groupScope } from '../groups/subscriptions.js';
import { requireTenant } from '../tenants/service.js';
import { WirelessLinkStateEnum, WirelessLinkTransitionReasonEnum } from './enums.js';
import type { LinkState } from './state-machine.js';

type LinkStateChanged = PulseEvents['wirelessLinkStateChanged'];

const WirelessLinkStateChangedEvent = builder.objectRef<LinkStateChanged>('WirelessLinkStateChangedEvent').implement({
  description: 'A wireless link changed state (after commit)',
  fields: (t) => ({
    eventId: t.exposeID('eventId', { description: 'The history entry (WirelessLinkEvent.eventId)' }),
    linkId: t.exposeID('linkId', { description: 'The plain link id' }),
    apDeviceId: t.exposeString('apDeviceId'),
    apInterfaceName: t.exposeString('apInterfaceName'),
    cpeDeviceId: t.exposeString('cpeDeviceId', { nullable: true }),
    cpeMac: t.exposeString('cpeMac'),
    fromState: t.field({ type: WirelessLinkStateEnum, nullable: true, description: 'Null for the discovery', resolve: (event) => event.fromState }),
    toState: t.field({ type: WirelessLinkStateEnum, resolve: (event) => event.toState }),
    reason: t.field({ type: WirelessLinkTransitionReasonEnum, resolve: (event) => event.reason }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
    link: t.prismaField({
      type: 'WirelessLink',
      nullable: true,
      description: "The link as it is now, read in the subscriber's own tenant scope",
      resolve: (query, event, _args, ctx) => ctx.session.db.wirelessLink.findUnique({ ...query, where: { id: event.linkId } }),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  wirelessLinkStateChanged: t.field({
    type: WirelessLinkStateChangedEvent,
    description:
      "Every link state change in the caller's tenant after it committed, in order; optionally of links where one device is the AP or the CPE, of links touching a group's members, or into some states. Changes suppressed by a maintenance window are not delivered",
    args: {
      deviceId: t.arg.string({ description: 'The AP or the CPE of the link' }),
      groupId: t.arg.string({ description: 'The AP or the CPE is a member of this group (checked when each event arrives)' }),
      states: t.arg({ type: [WirelessLinkStateEnum], description: 'Only changes into one of these states' }),
    },
    subscribe: async (_root, args, ctx) => {
      const tenantId = requireTenant(ctx.scope);
      // NotFound now for an unknown group; membership is checked when each event arrives.
      const inGroup = await groupScope(ctx, args.groupId);
      const states = args.states?.length ? new Set<LinkState>(args.states) : null;
      return pipe(
        ctx.events.subscribe('wirelessLinkStateChanged', tenantId),
        filter(async (event: LinkStateChanged) => {
          if (args.deviceId && event.apDeviceId !== args.deviceId && event.cpeDeviceId !== args.deviceId) return false;
          if (states && !states.has(event.toState)) return false;
          if (!args.groupId) return true;
          return (await inGroup({ deviceId: event.apDeviceId })) || (event.cpeDeviceId !== null && (await inGroup({ deviceId: event.cpeDeviceId })));
        }),
      );
    },
    resolve: (event) => event,
  }),
}));
