import type { GraphQLResolveInfo } from 'graphql';
import { queryFromInfo } from '@pothos/plugin-prisma';
import { resolveCursorConnection, type DefaultConnectionArguments } from '@pothos/plugin-relay';
import type { Prisma } from '../../generated/prisma/client.js';
import { batchLoad } from '../../graphql/batch-load.js';
import { builder } from '../../graphql/builder.js';
import { namedConnection } from '../../graphql/connections.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { WirelessLinkStateEnum, WirelessLinkTransitionReasonEnum } from './enums.js';
import { countLinks, deviceLinkPages, linkListCondition, linkPageIds } from './link-list.js';
import type { LinkState, LinkTransitionReason } from './state-machine.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NO_ID = '00000000-0000-0000-0000-000000000000';
const bigintToNumber = (value: bigint | null) => (value === null ? null : Number(value));

/** One appended state change of a link. */
export const WirelessLinkEventRef = builder.prismaNode('WirelessLinkEvent', {
  description: 'One entry of a link’s append-only history',
  nullable: true,
  id: { resolve: (event) => event.id.toString() },
  findUnique: (id) => ({ id: /^[0-9]{1,19}$/.test(id) ? BigInt(id) : -1n }),
  fields: (t) => ({
    eventId: t.id({ description: 'The entry number (the same as the subscription event eventId)', resolve: (event) => event.id.toString() }),
    fromState: t.field({ type: WirelessLinkStateEnum, nullable: true, description: 'Null for the discovery', resolve: (event) => event.fromState as LinkState | null }),
    toState: t.field({ type: WirelessLinkStateEnum, resolve: (event) => event.toState as LinkState }),
    reason: t.field({ type: WirelessLinkTransitionReasonEnum, resolve: (event) => event.reason as LinkTransitionReason }),
    suppressed: t.exposeBoolean('suppressed', { description: 'A DEGRADED or DOWN change during a maintenance window: stored, not announced' }),
    pollId: t.float({ nullable: true, description: 'The AP poll that caused it (none for worker changes)', resolve: (event) => bigintToNumber(event.pollId) }),
    details: t.expose('details', { type: 'JSONObject', description: 'The figures, counters and thresholds that caused the change' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
  }),
});

/** An AP radio → CPE link: identified by the AP, its radio's name and the station MAC. */
export const WirelessLinkRef = builder.prismaNode('WirelessLink', {
  nullable: true,
  id: { field: 'id' },
  findUnique: (id) => ({ id: UUID.test(id) ? id : NO_ID }),
  fields: (t) => ({
    linkId: t.exposeID('id', { description: 'The plain link id' }),
    ap: t.relation('apDevice', { description: 'The access point' }),
    apDeviceId: t.exposeString('apDeviceId'),
    apInterfaceName: t.exposeString('apInterfaceName', { description: 'The AP radio, as the AP names it in its polls' }),
    apInterface: t.relation('apInterface', { nullable: true, description: 'The AP’s registered interface of that name, if any' }),
    cpe: t.relation('cpeDevice', { nullable: true, description: 'The station’s device; null while no interface has its MAC' }),
    cpeDeviceId: t.exposeString('cpeDeviceId', { nullable: true }),
    cpeMac: t.exposeString('cpeMac', { description: 'The station MAC, normalised' }),
    cpeInterface: t.relation('cpeInterface', { nullable: true }),
    state: t.field({ type: WirelessLinkStateEnum, resolve: (link) => link.state as LinkState }),
    stateSince: t.expose('stateChangedAt', { type: 'DateTime' }),
    missedPolls: t.exposeInt('missedPolls', { description: 'Consecutive polls of the AP radio that did not list the station' }),
    goodPolls: t.exposeInt('goodPolls', { description: 'Consecutive sightings at or above the recover thresholds' }),
    firstSeenAt: t.expose('firstSeenAt', { type: 'DateTime' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime' }),
    lastPollId: t.float({ nullable: true, resolve: (link) => bigintToNumber(link.lastPollId) }),
    signalDbm: t.exposeFloat('signalDbm', { nullable: true, description: 'As of the last sighting' }),
    snrDb: t.exposeFloat('snrDb', { nullable: true }),
    noiseDbm: t.exposeFloat('noiseDbm', { nullable: true }),
    txRateMbps: t.exposeFloat('txRate', { nullable: true }),
    rxRateMbps: t.exposeFloat('rxRate', { nullable: true }),
    ccq: t.exposeFloat('ccq', { nullable: true, description: 'Client connection quality, percent' }),
    uptimeS: t.float({ nullable: true, description: 'The station’s association uptime, seconds', resolve: (link) => bigintToNumber(link.uptimeS) }),
    history: t.relatedConnection(
      'events',
      {
        description: 'State changes, newest first',
        cursor: 'id',
        defaultSize: 50,
        maxSize: 500,
        query: { orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }] },
        totalCount: true,
      },
      // Named inline: the prisma plugin hands a related connection its count as a number.
      { name: 'WirelessLinkEventsConnection' },
      { name: 'WirelessLinkEventsEdge' },
    ),
  }),
});

/** `Query.wirelessLinks` and `Device.wirelessLinks`. */
export const WirelessLinksConnection = namedConnection(WirelessLinkRef, 'WirelessLinks');

type LinkRow = Prisma.WirelessLinkGetPayload<object>;

/**
 * A page of links matching `condition`: IDs from one keyset statement, then the rows with the
 * GraphQL selection (relations included) in one Prisma call; the count only when selected.
 */
async function linkConnection(ctx: GraphQLContext, info: GraphQLResolveInfo, args: DefaultConnectionArguments, condition: Prisma.Sql) {
  const connection = await resolveCursorConnection<Promise<LinkRow[]>>({ args, defaultSize: 50, maxSize: 500, toCursor: (link) => link.id }, async (page) => {
    const ids = await linkPageIds(ctx.session, condition, page);
    const rows = await loadLinks(ctx, info, ids);
    return ids.flatMap((id) => rows.get(id) ?? []);
  });
  return { ...connection, totalCount: () => countLinks(ctx.session, condition) };
}

/** The links of `ids` with the connection's node selection (relations included), in one Prisma call. */
async function loadLinks(ctx: GraphQLContext, info: GraphQLResolveInfo, ids: string[]): Promise<Map<string, LinkRow>> {
  if (ids.length === 0) return new Map();
  const query = queryFromInfo({ context: ctx, info, typeName: 'WirelessLink', path: ['edges', 'node'] });
  const rows = (await ctx.session.db.wirelessLink.findMany({ ...query, where: { id: { in: ids } } })) as LinkRow[];
  return new Map(rows.map((row) => [row.id, row]));
}

const WirelessLinkFilterInput = builder.inputType('WirelessLinkFilter', {
  fields: (t) => ({
    apDeviceId: t.string({ description: 'Links of this access point' }),
    cpeDeviceId: t.string({ description: 'Links of this station device' }),
    deviceId: t.string({ description: 'Links where this device is the AP or the CPE' }),
    state: t.field({ type: [WirelessLinkStateEnum], description: 'In one of these states' }),
    siteId: t.string({ description: 'The AP or the CPE is at this site' }),
    groupId: t.string({ description: 'The AP or the CPE is a member of this group (static or dynamic)' }),
    tenantId: t.string({ description: 'Operators only: restrict to one tenant' }),
  }),
});

builder.queryFields((t) => ({
  wirelessLinks: t.connection(
    {
      type: WirelessLinkRef,
      description: "Links of the caller's tenant, by link id",
      args: { filter: t.arg({ type: WirelessLinkFilterInput }) },
      resolve: async (_root, args, ctx, info) => linkConnection(ctx, info, args, await linkListCondition(ctx.session, ctx.scope, args.filter)),
    },
    WirelessLinksConnection,
  ),
}));

/** The field's place in the response, list indexes left out: every device of one list shares it. */
const fieldPath = (info: GraphQLResolveInfo): string => {
  const keys: Array<string | number> = [];
  for (let path: GraphQLResolveInfo['path'] | undefined = info.path; path; path = path.prev) if (typeof path.key === 'string') keys.unshift(path.key);
  return keys.join('.');
};

builder.prismaObjectField('Device', 'wirelessLinks', (t) =>
  t.connection(
    {
      type: WirelessLinkRef,
      description: 'Links where the device is the AP or the CPE',
      args: { state: t.arg({ type: [WirelessLinkStateEnum] }) },
      resolve: async (device, args, ctx, info) => {
        // Every device of a page asks at once: one statement for their pages, one for the rows.
        const batch = `wirelessLinks|${device.tenantId}|${fieldPath(info)}|${JSON.stringify(args)}`;
        let total = 0;
        const connection = await resolveCursorConnection<Promise<LinkRow[]>>({ args, defaultSize: 50, maxSize: 500, toCursor: (link) => link.id }, async (page) => {
          const loaded = await batchLoad(ctx, batch, device.deviceId, async (deviceIds) => {
            const pages = await deviceLinkPages(ctx.session, device.tenantId, deviceIds, args.state, page);
            const rows = await loadLinks(ctx, info, [...pages.values()].flatMap((entry) => entry.ids));
            return new Map([...pages].map(([deviceId, entry]) => [deviceId, { total: entry.total, rows: entry.ids.flatMap((id) => rows.get(id) ?? []) }]));
          });
          total = loaded?.total ?? 0;
          return loaded?.rows ?? [];
        });
        return { ...connection, totalCount: () => total };
      },
    },
    WirelessLinksConnection,
  ),
);
