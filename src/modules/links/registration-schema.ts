import { builder } from '../../graphql/builder.js';
import { namedConnection } from '../../graphql/connections.js';
import { idSchema } from '../../kernel/ids.js';
import { parseInput } from '../../kernel/validation.js';
import { requireTenant } from '../tenants/service.js';

const bigintToNumber = (value: bigint | null) => (value === null ? null : Number(value));

/** A station an AP radio lists whose MAC no interface of the tenant has (yet). */
const UnresolvedRegistrationRef = builder.prismaObject('WirelessRegistration', {
  name: 'UnresolvedRegistration',
  description: 'The latest sighting of a station MAC that resolves to no device; registering an interface with the MAC turns it into a link',
  fields: (t) => ({
    apDeviceId: t.exposeString('apDeviceId'),
    ap: t.relation('apDevice'),
    interfaceName: t.exposeString('interfaceName', { description: 'The AP radio' }),
    stationMac: t.exposeString('stationMac'),
    signalDbm: t.exposeFloat('signalDbm', { nullable: true }),
    snrDb: t.exposeFloat('snrDb', { nullable: true }),
    noiseDbm: t.exposeFloat('noiseDbm', { nullable: true }),
    txRateMbps: t.exposeFloat('txRate', { nullable: true }),
    rxRateMbps: t.exposeFloat('rxRate', { nullable: true }),
    ccq: t.exposeFloat('ccq', { nullable: true }),
    uptimeS: t.float({ nullable: true, resolve: (row) => bigintToNumber(row.uptimeS) }),
    lastPollId: t.float({ nullable: true, resolve: (row) => bigintToNumber(row.lastPollId) }),
    sightings: t.float({ description: 'Polls that listed it since it was first seen', resolve: (row) => Number(row.sightings) }),
    firstSeenAt: t.expose('firstSeenAt', { type: 'DateTime' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime' }),
  }),
});

const UnresolvedRegistrationsConnection = namedConnection(UnresolvedRegistrationRef, 'UnresolvedRegistrations');

builder.queryFields((t) => ({
  unresolvedRegistrations: t.prismaConnection(
    {
      type: 'WirelessRegistration',
      description: "Stations APs of the caller's tenant list that resolve to no device, optionally of one AP; newest registrations last",
      cursor: 'id',
      defaultSize: 50,
      maxSize: 500,
      args: { apDeviceId: t.arg.string() },
      resolve: (query, _root, args, ctx) =>
        ctx.session.db.wirelessRegistration.findMany({
          ...query,
          where: {
            tenantId: requireTenant(ctx.scope),
            ...(args.apDeviceId != null && { apDeviceId: parseInput(idSchema, args.apDeviceId, ['apDeviceId']) }),
          },
          orderBy: { id: 'asc' },
        }),
      totalCount: (_root, args, ctx) =>
        ctx.session.db.wirelessRegistration.count({
          where: { tenantId: requireTenant(ctx.scope), ...(args.apDeviceId != null && { apDeviceId: args.apDeviceId }) },
        }),
    },
    UnresolvedRegistrationsConnection,
  ),
}));
