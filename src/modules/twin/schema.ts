import type { TenantScope } from '../../db/tenant-session.js';
import { builder } from '../../graphql/builder.js';
import { lookupTenant } from '../tenants/service.js';
import { batchLoad } from '../../graphql/batch-load.js';
import { lastConvergences, type TwinConvergence } from './convergence.js';
import type { DeltaChange, DeltaEntry, TwinDelta } from './delta.js';
import { twinEtag } from './etag.js';
import { viewTwin, type TwinState, type TwinView } from './view.js';

export const TwinSyncStatus = builder.enumType('TwinSyncStatus', {
  values: {
    IN_SYNC: { description: 'Every desired path is reported with the desired value' },
    PENDING: { description: 'Desired differs from reported and the device is online: it should converge soon' },
    STALE: { description: 'Desired differs from reported and the device is stale or offline: it cannot converge now' },
  } as const,
});

export const TwinDirection = builder.enumType('TwinDirection', { values: ['DESIRED', 'REPORTED'] as const });
export const TwinWriteMode = builder.enumType('TwinWriteMode', {
  values: {
    MERGE: { description: 'RFC 7396 JSON Merge Patch: objects merge, null deletes, anything else replaces' },
    REPLACE: { description: 'The document replaces the stored one' },
  } as const,
});
const TwinActorType = builder.enumType('TwinActorType', { values: ['USER', 'DEVICE', 'SERVICE'] as const });

const DeltaEntryRef = builder.objectRef<DeltaEntry>('TwinDeltaEntry').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Dotted path; keys other than [A-Za-z0-9_-]+ are bracket-quoted: a["x.y"]' }),
    value: t.field({ type: 'JSON', nullable: true, resolve: (entry) => entry.value }),
  }),
});

const DeltaChangeRef = builder.objectRef<DeltaChange>('TwinDeltaChange').implement({
  fields: (t) => ({
    path: t.exposeString('path'),
    desired: t.field({ type: 'JSON', nullable: true, resolve: (change) => change.desired }),
    reported: t.field({ type: 'JSON', nullable: true, resolve: (change) => change.reported }),
  }),
});

const DeltaRef = builder.objectRef<TwinDelta>('TwinDelta').implement({
  description: 'Desired against reported, leaf by leaf; each list is ordered by path',
  fields: (t) => ({
    added: t.field({ type: [DeltaEntryRef], description: 'Desired only: the device has yet to apply them', resolve: (delta) => delta.added }),
    removed: t.field({ type: [DeltaEntryRef], description: 'Reported only: not under desired control', resolve: (delta) => delta.removed }),
    changed: t.field({ type: [DeltaChangeRef], resolve: (delta) => delta.changed }),
    unchanged: t.exposeStringList('unchanged'),
  }),
});

type TwinMetadataPair = { desired: unknown; reported: unknown };
const TwinMetadataRef = builder.objectRef<TwinMetadataPair>('TwinMetadata').implement({
  description: 'Per-key last-updated times: trees mirroring the documents, leaves { "$lastUpdated": ISO-8601 }',
  fields: (t) => ({
    desired: t.field({ type: 'JSONObject', resolve: (pair) => pair.desired }),
    reported: t.field({ type: 'JSONObject', resolve: (pair) => pair.reported }),
  }),
});

const TwinConvergenceRef = builder.objectRef<TwinConvergence>('TwinConvergence').implement({
  description: 'How long the device took to report the state of a desired version',
  fields: (t) => ({
    desiredVersion: t.exposeInt('desiredVersion'),
    desiredAt: t.expose('desiredAt', { type: 'DateTime' }),
    convergedAt: t.expose('convergedAt', { type: 'DateTime' }),
    seconds: t.exposeFloat('seconds'),
  }),
});

// Delta and sync status come from the same computation; fields of one twin share it.
const views = new WeakMap<object, TwinView>();
function viewOf(state: TwinState & object): TwinView {
  let view = views.get(state);
  if (!view) views.set(state, (view = viewTwin(state)));
  return view;
}

/** A device's twin: its state row seen as desired/reported documents. A variant, so DeviceState stays free for others. */
export const DeviceTwinRef = builder.prismaObject('DeviceState', {
  variant: 'DeviceTwin',
  fields: (t) => ({
    deviceId: t.exposeString('deviceId'),
    desired: t.expose('desiredState', { type: 'JSONObject' }),
    reported: t.expose('reportedState', { type: 'JSONObject' }),
    desiredVersion: t.exposeInt('desiredVersion'),
    reportedVersion: t.exposeInt('reportedVersion'),
    etag: t.string({ description: 'ETag of the desired version, e.g. "7": pass it as ifMatch', resolve: (state) => twinEtag(state.desiredVersion) }),
    desiredUpdatedAt: t.expose('desiredUpdatedAt', { type: 'DateTime', nullable: true }),
    reportedUpdatedAt: t.expose('reportedUpdatedAt', { type: 'DateTime', nullable: true }),
    metadata: t.field({ type: TwinMetadataRef, resolve: (state) => ({ desired: state.desiredMetadata, reported: state.reportedMetadata }) }),
    delta: t.field({ type: DeltaRef, resolve: (state) => viewOf(state).delta }),
    syncStatus: t.field({ type: TwinSyncStatus, resolve: (state) => viewOf(state).sync.status }),
    pendingSince: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Since when desired has been waiting for the device; null when in sync',
      resolve: (state) => viewOf(state).sync.pendingSince,
    }),
    lastConvergence: t.field({
      type: TwinConvergenceRef,
      nullable: true,
      description: 'The newest desired version the device converged on; computed from history (one statement for a page of twins)',
      resolve: async (state, _args, ctx) =>
        (await batchLoad(ctx, `convergence|${state.tenantId}`, state.deviceId, (deviceIds) => lastConvergences(ctx.session, state.tenantId, deviceIds))) ?? null,
    }),
  }),
});

builder.prismaObjectField('Device', 'twin', (t) => t.relation('state', { type: DeviceTwinRef, nullable: true }));

const lower = <T extends string>(value: T) => value.toLowerCase();

type HistoryArgs = { deviceId: string; direction?: 'DESIRED' | 'REPORTED' | null; tenantId?: string | null };
function historyWhere(scope: TenantScope, args: HistoryArgs) {
  return { tenantId: lookupTenant(scope, args.tenantId), deviceId: args.deviceId, ...(args.direction && { direction: lower(args.direction) }) };
}

/** A bigint row id from a global ID; an unparsable one matches no row (node(id) answers null). */
export function rowIdOf(id: string): bigint {
  return /^[0-9]{1,19}$/.test(id) ? BigInt(id) : -1n;
}

export const TwinHistoryEntryRef = builder.prismaNode('DeviceTwinHistory', {
  name: 'TwinHistoryEntry',
  description: 'One accepted twin write: who, when, the patch and the whole document after it',
  nullable: true,
  id: { resolve: (entry) => entry.id.toString() },
  findUnique: (id) => ({ id: rowIdOf(id) }),
  fields: (t) => ({
    deviceId: t.exposeString('deviceId'),
    direction: t.field({ type: TwinDirection, resolve: (entry) => entry.direction.toUpperCase() as 'DESIRED' | 'REPORTED' }),
    version: t.exposeInt('version'),
    patch: t.expose('patch', { type: 'JSON', description: 'RFC 7396 merge patch (REPLACE writes: the patch they amount to)' }),
    document: t.expose('document', { type: 'JSONObject' }),
    mode: t.field({ type: TwinWriteMode, resolve: (entry) => entry.mode.toUpperCase() as 'MERGE' | 'REPLACE' }),
    actorType: t.field({ type: TwinActorType, resolve: (entry) => entry.actorType.toUpperCase() as 'USER' | 'DEVICE' | 'SERVICE' }),
    actorId: t.exposeString('actorId', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  twinHistory: t.prismaConnection({
    type: TwinHistoryEntryRef,
    cursor: 'id',
    defaultSize: 20,
    maxSize: 100,
    description: "A device's twin writes, newest first",
    args: { deviceId: t.arg.string({ required: true }), direction: t.arg({ type: TwinDirection }), tenantId: t.arg.string() },
    resolve: (query, _root, args, ctx) => ctx.session.db.deviceTwinHistory.findMany({ ...query, where: historyWhere(ctx.scope, args), orderBy: { id: 'desc' } }),
    totalCount: (_root, args, ctx) => ctx.session.db.deviceTwinHistory.count({ where: historyWhere(ctx.scope, args) }),
  }, { name: 'TwinHistoryEntriesConnection' }, { name: 'TwinHistoryEntriesEdge' }),
  twinAt: t.prismaField({
    type: TwinHistoryEntryRef,
    nullable: true,
    description: 'The twin write that created `version` (its `document` is the twin at that version); null for version 0, the empty document',
    args: {
      deviceId: t.arg.string({ required: true }),
      version: t.arg.int({ required: true }),
      direction: t.arg({ type: TwinDirection, defaultValue: 'DESIRED' }),
      tenantId: t.arg.string(),
    },
    resolve: (query, _root, args, ctx) =>
      ctx.session.db.deviceTwinHistory.findUnique({
        ...query,
        where: {
          tenantId_deviceId_direction_version: {
            tenantId: lookupTenant(ctx.scope, args.tenantId),
            deviceId: args.deviceId,
            direction: lower(args.direction ?? 'DESIRED'),
            version: args.version,
          },
        },
      }),
  }),
}));
