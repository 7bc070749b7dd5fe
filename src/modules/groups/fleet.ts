/**
 * `fleetSummary`: device counts per bucket of one or more dimensions (status, site, carrier, tag
 * value, ...) for any filter, in one GROUP BY statement — the dashboard's "online per site" without
 * paging the fleet, and read-your-writes like every other read. And `previewDynamicGroup`: a
 * filter's count and first members before it is saved.
 */
import { Prisma } from '../../generated/prisma/client.js';
import { builder } from '../../graphql/builder.js';
import { contributedDeviceDimensions } from '../../graphql/device-filter-terms.js';
import { ValidationError } from '../../kernel/errors.js';
import { DeviceFilterInput } from '../devices/schema.js';
import { deviceListCondition } from '../devices/service.js';
import { countDevices, inKeyOrder, keysWhere, pageDeviceKeys } from '../devices/store.js';
import { previewCondition } from './service.js';

/** More buckets than this is not a summary; the caller narrows the filter or the dimensions. */
export const MAX_BUCKETS = 1_000;

interface Bucket {
  values: Array<{ dimension: string; value: string | null }>;
  count: number;
}

let fleetDimension: ReturnType<typeof defineFleetDimension> | undefined;
function defineFleetDimension() {
  return builder.enumType('FleetDimension', {
    values: Object.fromEntries(contributedDeviceDimensions().map((dimension) => [dimension.name, { description: dimension.description }])),
  });
}
/** Built when the schema is (inside field thunks): the modules' dimensions are installed by then. */
const FleetDimension = () => (fleetDimension ??= defineFleetDimension());

const FleetBucketValue = builder.objectRef<Bucket['values'][number]>('FleetBucketValue').implement({
  fields: (t) => ({
    dimension: t.field({ type: FleetDimension(), resolve: (value) => value.dimension as never }),
    value: t.exposeString('value', { nullable: true, description: 'null: the device has no value for the dimension' }),
  }),
});

const FleetBucket = builder.objectRef<Bucket>('FleetBucket').implement({
  fields: (t) => ({
    values: t.field({ type: [FleetBucketValue], description: 'One per groupBy dimension, in its order', resolve: (bucket) => bucket.values }),
    count: t.exposeInt('count'),
  }),
});

const FleetSummary = builder.objectRef<{ total: number; buckets: Bucket[] }>('FleetSummary').implement({
  fields: (t) => ({
    total: t.exposeInt('total', { description: 'Devices matching the filter' }),
    buckets: t.field({ type: [FleetBucket], description: 'Largest first', resolve: (summary) => summary.buckets }),
  }),
});

builder.queryFields((t) => ({
  fleetSummary: t.field({
    type: FleetSummary,
    description: 'Device counts per bucket of the groupBy dimensions, for the devices matching filter; one statement',
    args: {
      filter: t.arg({ type: DeviceFilterInput }),
      groupBy: t.arg({ type: [FleetDimension()], required: true }),
      tagKey: t.arg.string({ description: 'The tag whose values the TAG dimension counts' }),
    },
    resolve: async (_root, args, ctx) => {
      const byName = new Map(contributedDeviceDimensions().map((dimension) => [dimension.name, dimension]));
      const names = args.groupBy as string[];
      if (names.length === 0 || names.length > 4 || new Set(names).size !== names.length) {
        throw ValidationError.single(['groupBy'], 'names 1 to 4 distinct dimensions', 'INVALID_VALUE');
      }
      const dimensions = names.map((name) => byName.get(name)!);
      if (dimensions.some((dimension) => dimension.needsTagKey) && !args.tagKey) {
        throw ValidationError.single(['tagKey'], 'the TAG dimension needs a tagKey', 'INVALID_VALUE');
      }
      const condition = await deviceListCondition(ctx.session, args.filter);
      const device = Prisma.raw('d');
      const columns = dimensions.map((dimension, index) => Prisma.sql`${dimension.sql(device, args.tagKey ?? null)}::text AS ${Prisma.raw(`k${index}`)}`);
      const rows = await ctx.session.db.$queryRaw<Array<Record<string, string | null> & { count: number }>>`
        SELECT ${Prisma.join(columns)}, count(*)::int AS count
        FROM device_registry d WHERE ${condition}
        GROUP BY ${Prisma.join(dimensions.map((_dimension, index) => Prisma.raw(String(index + 1))))}
        ORDER BY count DESC, 1
        LIMIT ${MAX_BUCKETS + 1}`;
      if (rows.length > MAX_BUCKETS) throw ValidationError.single(['groupBy'], `more than ${MAX_BUCKETS} buckets: narrow the filter or the dimensions`, 'TOO_BIG');
      const buckets = rows.map((row) => ({ count: row.count, values: names.map((name, index) => ({ dimension: name, value: row[`k${index}`] ?? null })) }));
      return { total: buckets.reduce((sum, bucket) => sum + bucket.count, 0), buckets };
    },
  }),
}));

const DynamicGroupPreview = builder.objectRef<{ count: number; members: Array<{ tenantId: string; deviceId: string }> }>('DynamicGroupPreview');

DynamicGroupPreview.implement({
  fields: (t) => ({
    memberCount: t.exposeInt('count'),
    members: t.prismaField({
      type: ['Device'],
      description: 'The first members, in deviceId order',
      resolve: async (query, preview, _args, ctx) =>
        preview.members.length === 0 ? [] : inKeyOrder(preview.members, await ctx.session.db.device.findMany({ ...query, where: keysWhere(preview.members) })),
    }),
  }),
});

builder.queryFields((t) => ({
  previewDynamicGroup: t.field({
    type: DynamicGroupPreview,
    description: 'What a dynamic group with this filter would hold now: its count and first members, before saving it',
    args: { filter: t.arg({ type: DeviceFilterInput, required: true }), first: t.arg.int({ defaultValue: 10 }) },
    resolve: async (_root, args, ctx) => {
      const { tenantId, condition } = await previewCondition(ctx.session, args.filter);
      const scoped = Prisma.sql`d.tenant_id = ${tenantId} AND d.decommissioned_at IS NULL AND ${condition}`;
      const first = Math.min(Math.max(args.first ?? 10, 0), 100);
      const [count, members] = [await countDevices(ctx.session, scoped), await pageDeviceKeys(ctx.session, scoped, { take: first })];
      return { count, members };
    },
  }),
}));
