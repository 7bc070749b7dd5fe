import { keepArriving } from '../../events/arrivals.js';
import { builder } from '../../graphql/builder.js';
import type { GraphQLContext } from '../../graphql/context.js';

/** What every device event payload carries: whose device it is about. */
export interface DeviceEventKey {
  tenantId: string;
  deviceId: string;
}

/** The Prisma query Pothos builds for a selection of `device`: `select` or `include`. */
type DeviceQuery = { select?: Record<string, unknown>; include?: Record<string, unknown> };

/** What decides a re-read's rows: the tenant, the role (what RLS shows) and the selection. */
interface DeviceRead {
  key: string;
  query: DeviceQuery;
}

/**
 * Reads shared by the subscribers of one event. The in-process bus (and each instance's Redis
 * listener) hands every subscriber the same event object, so an event's subscribers with the
 * same role and the same selection get the same rows: read once, not once per subscriber.
 * Keyed weakly by the event, so entries go when the event does.
 */
const sharedReads = new WeakMap<object, Map<string, Promise<unknown>>>();

/**
 * The re-read each subscription's `device` field made last, by its GraphQL context (one per
 * subscription, or per group of shared ones): what {@link prefetchDevice} reads ahead with.
 */
const readsByContext = new WeakMap<object, DeviceRead>();

/**
 * Re-reads waiting for the next turn of the event loop, by read key: the events that arrive in
 * one turn (a burst of writes) are read in one statement. `previous` chains the batches of a key,
 * so a later batch's snapshot is never older than an earlier one's: a subscriber never sees a
 * device go back in time between two events.
 */
interface PendingBatch {
  keys: Map<string, DeviceEventKey>;
  rows: Promise<Map<string, unknown>>;
}
const pendingBatches = new Map<string, PendingBatch>();
/** The last batch of each key until it settled; never rejects. */
const lastBatch = new Map<string, Promise<void>>();

function forget(key: string, batch: Promise<void>): void {
  if (lastBatch.get(key) === batch) lastBatch.delete(key);
}

function readOf(ctx: GraphQLContext, query: DeviceQuery): DeviceRead {
  // Channels are per tenant, so subscribers of one event share the tenant; the role decides
  // what RLS shows (operator or customer), the selection decides the shape.
  return { key: `${ctx.scope.tenantId}|${ctx.scope.role}|${JSON.stringify(query)}`, query };
}

function readDevice(ctx: GraphQLContext, read: DeviceRead, event: DeviceEventKey): Promise<unknown> {
  let reads = sharedReads.get(event);
  if (!reads) sharedReads.set(event, (reads = new Map()));
  let pending = reads.get(read.key);
  if (!pending) {
    pending = batchedRead(ctx, read, event);
    reads.set(read.key, pending);
  }
  return pending;
}

function batchedRead(ctx: GraphQLContext, read: DeviceRead, event: DeviceEventKey): Promise<unknown> {
  let batch = pendingBatches.get(read.key);
  if (!batch) {
    const keys = new Map<string, DeviceEventKey>();
    const before = lastBatch.get(read.key) ?? Promise.resolve();
    const rows = Promise.all([before, new Promise<void>((resolve) => setImmediate(resolve))]).then(() => {
      pendingBatches.delete(read.key);
      return loadDevices(ctx, read.query, [...keys.values()]);
    });
    const settled: Promise<void> = rows.then(
      () => forget(read.key, settled),
      () => forget(read.key, settled),
    );
    lastBatch.set(read.key, settled);
    batch = { keys, rows };
    pendingBatches.set(read.key, batch);
  }
  const id = `${event.tenantId}/${event.deviceId}`;
  batch.keys.set(id, { tenantId: event.tenantId, deviceId: event.deviceId });
  return batch.rows.then((rows) => rows.get(id) ?? null);
}

/**
 * One statement for the devices of a batch, through the subscriber's selection and in its scope
 * (RLS applies): a device RLS hides is absent, so its event reads null, as `findUnique` would.
 */
async function loadDevices(ctx: GraphQLContext, query: DeviceQuery, keys: DeviceEventKey[]): Promise<Map<string, unknown>> {
  // The row's own key is needed to hand each event its row; a `select` may not ask for it.
  const shape = query.select ? { select: { ...query.select, tenantId: true, deviceId: true } } : query;
  const byTenant = new Map<string, string[]>();
  for (const key of keys) byTenant.set(key.tenantId, [...(byTenant.get(key.tenantId) ?? []), key.deviceId]);
  const terms = [...byTenant].map(([tenantId, deviceIds]) => ({ tenantId, deviceId: { in: deviceIds } }));
  const where = terms.length === 1 ? terms[0] : { OR: terms };
  const rows = (await ctx.session.db.device.findMany({ ...shape, where } as never)) as Array<DeviceEventKey & Record<string, unknown>>;
  return new Map(rows.map((row) => [`${row.tenantId}/${row.deviceId}`, row]));
}

/**
 * Starts the re-read of `event`'s device as the event arrives, before its turn to be executed:
 * with the selection this subscription's `device` field read last (nothing before its first
 * event). Events that arrive together are then read in one statement, and a subscription's
 * execution no longer waits on one round trip per event.
 */
export function prefetchDevice(ctx: GraphQLContext, event: DeviceEventKey): void {
  const read = readsByContext.get(ctx);
  if (read) readDevice(ctx, read, event).catch(() => undefined);
}

/**
 * A subscription's device events, filtered by `keep` as they arrive; each kept event's device
 * re-read starts at once ({@link prefetchDevice}), ahead of the event's execution.
 */
export function deviceEvents<T extends DeviceEventKey>(ctx: GraphQLContext, source: AsyncIterable<T>, keep: (event: T) => boolean | Promise<boolean>): AsyncIterable<T> {
  return keepArriving(source, keep, (event) => prefetchDevice(ctx, event));
}

/**
 * Fields every subscription event about a device shares. `device` is re-read when the event is
 * delivered (or as it arrives, see {@link prefetchDevice}), in the subscriber's own tenant scope
 * (row-level security applies), through the subscriber's own selection — so nested fields stay
 * one Prisma call.
 */
export const DeviceEventInterface = builder.interfaceRef<DeviceEventKey>('DeviceEvent').implement({
  fields: (t) => ({
    deviceId: t.exposeString('deviceId'),
    device: t.prismaField({
      type: 'Device',
      nullable: true,
      description: "The device as it is now, read in the subscriber's own tenant scope",
      resolve: (query, event, _args, ctx) => {
        const read = readOf(ctx, query as DeviceQuery);
        readsByContext.set(ctx, read);
        return readDevice(ctx, read, event) as never;
      },
    }),
  }),
});
