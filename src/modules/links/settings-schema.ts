import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { builder } from '../../graphql/builder.js';
import { requireTenant } from '../tenants/service.js';
import { cancelDeviceMaintenance, scheduleDeviceMaintenance } from './maintenance.js';
import type { LinkThresholds } from './state-machine.js';
import { setTenantThresholds, tenantThresholds } from './thresholds.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const WirelessLinkThresholdsRef = builder.objectRef<LinkThresholds>('WirelessLinkThresholds').implement({
  description: "The link state machine's thresholds in effect for the tenant (its own values, else the server's defaults)",
  fields: (t) => ({
    signalDegradeDbm: t.exposeFloat('signalDegradeDbm', { description: 'Below this signal a sighting is poor (ACTIVE → DEGRADED)' }),
    signalRecoverDbm: t.exposeFloat('signalRecoverDbm', { description: 'At or above this signal (and snrRecoverDb) a sighting is good' }),
    snrDegradeDb: t.exposeFloat('snrDegradeDb'),
    snrRecoverDb: t.exposeFloat('snrRecoverDb'),
    confirmPolls: t.exposeInt('confirmPolls', { description: 'K: consecutive good sightings to become ACTIVE' }),
    downAfterMissedPolls: t.exposeInt('downAfterMissedPolls', { description: 'M: consecutive polls without the station to become DOWN' }),
    minDwellSeconds: t.exposeInt('minDwellSeconds', { description: 'Least time in ACTIVE or DEGRADED before the signal may move a link between them' }),
    staleAfterSeconds: t.exposeInt('staleAfterSeconds', { description: 'Not seen for this long: STALE' }),
    apSilentAfterSeconds: t.exposeInt('apSilentAfterSeconds', { description: 'The AP radio has not reported for this long: its links are DOWN' }),
  }),
});

const SetWirelessLinkThresholdsInput = builder.inputType('SetWirelessLinkThresholdsInput', {
  description: 'Omit a value to keep it, null to clear it (back to the server default)',
  fields: (t) => ({
    signalDegradeDbm: t.float(),
    signalRecoverDbm: t.float({ description: 'Must stay above signalDegradeDbm' }),
    snrDegradeDb: t.float(),
    snrRecoverDb: t.float({ description: 'Must stay above snrDegradeDb' }),
    confirmPolls: t.int(),
    downAfterMissedPolls: t.int(),
    minDwellSeconds: t.int(),
    staleAfterSeconds: t.int(),
    apSilentAfterSeconds: t.int(),
  }),
});

const SetWirelessLinkThresholdsPayload = builder.objectRef<LinkThresholds>('SetWirelessLinkThresholdsPayload').implement({
  fields: (t) => ({ thresholds: t.field({ type: WirelessLinkThresholdsRef, description: 'Now in effect', resolve: (thresholds) => thresholds }) }),
});

/** A planned window of work on a device. */
builder.prismaNode('DeviceMaintenanceWindow', {
  name: 'MaintenanceWindow',
  nullable: true,
  id: { field: 'id' },
  findUnique: (id) => ({ id: UUID.test(id) ? id : '00000000-0000-0000-0000-000000000000' }),
  fields: (t) => ({
    windowId: t.exposeID('id', { description: 'The plain window id (for cancelDeviceMaintenance)' }),
    deviceId: t.exposeString('deviceId'),
    device: t.relation('device'),
    startsAt: t.expose('startsAt', { type: 'DateTime' }),
    endsAt: t.expose('endsAt', { type: 'DateTime' }),
    reason: t.exposeString('reason', { nullable: true }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField('Device', 'maintenanceWindows', (t) =>
  t.relation('maintenanceWindows', {
    description: 'Maintenance windows that have not ended (all with includeEnded), by start',
    args: { includeEnded: t.arg.boolean({ defaultValue: false }) },
    query: (args) => ({ where: args.includeEnded ? {} : { endsAt: { gt: new Date() } }, orderBy: [{ startsAt: 'asc' }, { id: 'asc' }], take: 500 }),
  }),
);

const ScheduleDeviceMaintenanceInput = builder.inputType('ScheduleDeviceMaintenanceInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    startsAt: t.field({ type: 'DateTime', required: true }),
    endsAt: t.field({ type: 'DateTime', required: true, description: 'After startsAt and in the future; at most 366 days after startsAt' }),
    reason: t.string(),
  }),
});

const CancelDeviceMaintenanceInput = builder.inputType('CancelDeviceMaintenanceInput', {
  fields: (t) => ({ windowId: t.id({ required: true }) }),
});

const ScheduleDeviceMaintenancePayload = builder.objectRef<{ id: string }>('ScheduleDeviceMaintenancePayload').implement({
  fields: (t) => ({
    window: t.prismaField({
      type: 'DeviceMaintenanceWindow',
      resolve: (query, payload, _args, ctx) => ctx.session.db.deviceMaintenanceWindow.findUniqueOrThrow({ ...query, where: { id: payload.id } }),
    }),
  }),
});

const CancelDeviceMaintenancePayload = builder.objectRef<{ id: string; deviceId: string }>('CancelDeviceMaintenancePayload').implement({
  fields: (t) => ({
    cancelledWindowId: t.id({ resolve: (payload) => payload.id }),
    deviceId: t.string({ resolve: (payload) => payload.deviceId }),
  }),
});

builder.queryFields((t) => ({
  wirelessLinkThresholds: t.field({
    type: WirelessLinkThresholdsRef,
    description: "The link thresholds in effect for the caller's tenant",
    resolve: (_root, _args, ctx) => tenantThresholds(ctx.session, requireTenant(ctx.scope), ctx.services.config.links.defaults),
  }),
}));

builder.mutationFields((t) => ({
  setWirelessLinkThresholds: t.field({
    type: SetWirelessLinkThresholdsPayload,
    description: "Sets the caller's tenant's link thresholds; returns those now in effect. Applies from the next poll or sweep",
    errors: { types: [ValidationError], directResult: true, union: { name: 'SetWirelessLinkThresholdsResult' } },
    args: { input: t.arg({ type: SetWirelessLinkThresholdsInput, required: true }) },
    resolve: (_root, args, ctx) => setTenantThresholds(ctx.session, args.input, ctx.services.config.links.defaults),
  }),
  scheduleDeviceMaintenance: t.field({
    type: ScheduleDeviceMaintenancePayload,
    description: "Plans work on a device: its links' DEGRADED and DOWN changes are stored but not announced during the window",
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'ScheduleDeviceMaintenanceResult' } },
    args: { input: t.arg({ type: ScheduleDeviceMaintenanceInput, required: true }) },
    resolve: async (_root, args, ctx) => ({ id: await scheduleDeviceMaintenance(ctx.session, args.input) }),
  }),
  cancelDeviceMaintenance: t.field({
    type: CancelDeviceMaintenancePayload,
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'CancelDeviceMaintenanceResult' } },
    args: { input: t.arg({ type: CancelDeviceMaintenanceInput, required: true }) },
    resolve: (_root, args, ctx) => cancelDeviceMaintenance(ctx.session, { id: args.input.windowId }),
  }),
}));
