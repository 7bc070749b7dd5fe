import type { PulseEvents } from '../../events/events.js';
import { builder } from '../../graphql/builder.js';
import { NotFoundError } from '../../kernel/errors.js';
import { isValidId } from '../../kernel/ids.js';
import { DeviceEventInterface, deviceEvents } from '../devices/device-event.js';
import { requireTenant } from '../tenants/service.js';
import { CommandRef, CommandStatusEnum } from './schema.js';
import './events.js';

type StatusChanged = PulseEvents['commandStatusChanged'];

const CommandStatusChangedEvent = builder.objectRef<StatusChanged>('CommandStatusChangedEvent').implement({
  interfaces: [DeviceEventInterface],
  fields: (t) => ({
    commandId: t.exposeString('commandId'),
    batchId: t.exposeString('batchId', { nullable: true }),
    previousStatus: t.field({ type: CommandStatusEnum, nullable: true, description: 'Null when the command was created', resolve: (event) => event.previousStatus }),
    status: t.field({ type: CommandStatusEnum, description: 'The status this transition moved to', resolve: (event) => event.status }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
    command: t.prismaField({
      type: CommandRef,
      nullable: true,
      description: "The command as it is now (a later transition may have moved it on), read in the subscriber's own tenant scope",
      resolve: (query, event, _args, ctx) =>
        ctx.session.db.deviceCommand.findUnique({ ...query, where: { tenantId_commandId: { tenantId: event.tenantId, commandId: event.commandId } } }),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  commandStatusChanged: t.field({
    type: CommandStatusChangedEvent,
    description: "Every command transition in the caller's tenant after it committed, creation included; optionally of one device and/or one group batch",
    args: { deviceId: t.arg.string(), batchId: t.arg.string() },
    subscribe: async (_root, args, ctx) => {
      const tenantId = requireTenant(ctx.scope);
      const { deviceId, batchId } = args;
      if (batchId) {
        const batch = isValidId(batchId)
          ? await ctx.session.db.commandBatch.findUnique({ where: { tenantId_batchId: { tenantId, batchId } }, select: { batchId: true } })
          : null;
        if (!batch) throw new NotFoundError('CommandBatch', batchId);
      }
      return deviceEvents(
        ctx,
        ctx.events.subscribe('commandStatusChanged', tenantId),
        (event: StatusChanged) => (!deviceId || event.deviceId === deviceId) && (!batchId || event.batchId === batchId),
      );
    },
    resolve: (event) => event,
  }),
}));
