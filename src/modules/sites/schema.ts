import { AlreadyExistsError, ValidationError } from '../../kernel/errors.js';
import { builder } from '../../graphql/builder.js';
import { namedConnection } from '../../graphql/connections.js';
import { parseDeviceKey } from '../../kernel/device-key.js';
import { DevicesConnection } from '../devices/schema.js';
import { lookupTenant, requireTenant } from '../tenants/service.js';
import { createSite } from './service.js';

/** A site; its global ID encodes tenant and site ID. */
const SiteRef = builder.prismaNode('Site', {
  nullable: true,
  id: { resolve: (site) => `${site.tenantId}/${site.siteId}` },
  findUnique: (id) => {
    const key = parseDeviceKey(id);
    return { tenantId_siteId: { tenantId: key?.tenantId ?? '', siteId: key?.deviceId ?? '' } };
  },
  fields: (t) => ({
    siteId: t.exposeString('siteId'),
    name: t.exposeString('name'),
    address: t.exposeString('address', { nullable: true }),
    latitude: t.exposeFloat('latitude', { nullable: true }),
    longitude: t.exposeFloat('longitude', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    devices: t.relatedConnection('devices', {
      cursor: 'tenantId_deviceId',
      query: { where: { decommissionedAt: null }, orderBy: { deviceId: 'asc' } },
      totalCount: true,
    }, DevicesConnection),
  }),
});

const SitesConnection = namedConnection(SiteRef, 'Sites');

const CreateSiteInput = builder.inputType('CreateSiteInput', {
  fields: (t) => ({
    siteId: t.string({ required: true }),
    name: t.string({ required: true }),
    address: t.string(),
    latitude: t.float(),
    longitude: t.float(),
  }),
});

builder.queryFields((t) => ({
  site: t.prismaField({
    type: 'Site',
    nullable: true,
    args: { siteId: t.arg.string({ required: true }), tenantId: t.arg.string() },
    resolve: (query, _root, args, ctx) =>
      ctx.session.db.site.findUnique({ ...query, where: { tenantId_siteId: { tenantId: lookupTenant(ctx.scope, args.tenantId), siteId: args.siteId } } }),
  }),
  sites: t.prismaConnection(
    {
      type: 'Site',
      cursor: 'tenantId_siteId',
      defaultSize: 100,
      maxSize: 500,
      resolve: (query, _root, _args, ctx) =>
        ctx.session.db.site.findMany({ ...query, where: { tenantId: requireTenant(ctx.scope) }, orderBy: [{ tenantId: 'asc' }, { siteId: 'asc' }] }),
      totalCount: (_root, _args, ctx) => ctx.session.db.site.count({ where: { tenantId: requireTenant(ctx.scope) } }),
    },
    SitesConnection,
  ),
}));

const CreateSitePayload = builder.objectRef<{ tenantId: string; siteId: string }>('CreateSitePayload').implement({
  fields: (t) => ({
    site: t.prismaField({
      type: 'Site',
      resolve: (query, key, _args, ctx) => ctx.session.db.site.findUniqueOrThrow({ ...query, where: { tenantId_siteId: key } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  createSite: t.field({
    type: CreateSitePayload,
    errors: { types: [ValidationError, AlreadyExistsError], directResult: true, union: { name: 'CreateSiteResult' } },
    args: { input: t.arg({ type: CreateSiteInput, required: true }) },
    resolve: (_root, args, ctx) => createSite(ctx.session, args.input),
  }),
}));
