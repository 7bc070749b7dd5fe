import { builder } from '../../graphql/builder.js';
import { CommandsConnection, CommandStatusEnum, parseTenantScopedId, resolveIdArgument } from './schema.js';
import { toStored, type StoredStatus } from './status.js';
import { batchStatusCounts } from './store.js';

type Counts = Map<StoredStatus, number>;

const CommandStatusCountsRef = builder.objectRef<Counts>('CommandStatusCounts').implement({
  description: "A batch's commands per status, counted when read",
  fields: (t) => {
    const count = (status: StoredStatus) => t.int({ resolve: (counts) => counts.get(status) ?? 0 });
    return {
      queued: count('queued'),
      sent: count('sent'),
      delivered: count('delivered'),
      failed: count('failed'),
      expired: count('expired'),
      missed: count('missed'),
      cancelled: count('cancelled'),
      total: t.int({ resolve: (counts) => [...counts.values()].reduce((sum, n) => sum + n, 0) }),
    };
  },
});

/** A group command: one command per member resolved at send time. */
export const CommandBatchRef = builder.prismaNode('CommandBatch', {
  name: 'CommandBatch',
  nullable: true,
  id: { resolve: (batch) => `${batch.tenantId}/${batch.batchId}` },
  findUnique: (id) => {
    const key = parseTenantScopedId(id);
    return { tenantId_batchId: { tenantId: key.tenantId, batchId: key.id } };
  },
  fields: (t) => ({
    batchId: t.exposeString('batchId'),
    groupId: t.exposeString('groupId', { nullable: true, description: 'Null once the group was deleted' }),
    commandType: t.exposeString('commandType'),
    params: t.expose('commandParams', { type: 'JSONObject' }),
    ttlSeconds: t.exposeInt('ttlSeconds'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    targetCount: t.exposeInt('targetCount', { description: 'Members the batch was sent to' }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    counts: t.field({
      type: CommandStatusCountsRef,
      select: { tenantId: true, batchId: true },
      resolve: (batch, _args, ctx) => batchStatusCounts(ctx.session, batch.tenantId, batch.batchId),
    }),
    commands: t.relatedConnection(
      'commands',
      {
        cursor: 'tenantId_commandId',
        description: "The batch's commands in creation (device ID) order",
        args: { status: t.arg({ type: [CommandStatusEnum] }) },
        query: (args) => ({ where: args.status?.length ? { status: { in: args.status.map(toStored) } } : {}, orderBy: { seq: 'asc' } }),
        totalCount: true,
      },
      CommandsConnection,
    ),
  }),
});

builder.queryFields((t) => ({
  commandBatch: t.prismaField({
    type: CommandBatchRef,
    nullable: true,
    description: 'A group command by its global ID or its batchId; null when it does not exist',
    args: { id: t.arg.id({ required: true }), tenantId: t.arg.string({ description: 'Operators: the tenant of a plain batchId' }) },
    resolve: (query, _root, args, ctx) => {
      const key = resolveIdArgument(ctx.scope, 'CommandBatch', String(args.id), args.tenantId);
      if (!key) return null;
      return ctx.session.db.commandBatch.findUnique({ ...query, where: { tenantId_batchId: { tenantId: key.tenantId, batchId: key.id } } });
    },
  }),
}));
