import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { builder } from '../../graphql/builder.js';
import { Prisma } from '../../generated/prisma/client.js';
import { sqlColumn, sqlRelation, sqlTimestamp, sqlValue } from '../../graphql/sql-reads.js';
import { ConnectionTypeEnum, NetworkStatusEnum, SimStatusEnum } from './enums.js';
import type { CONNECTION_TYPES, NETWORK_STATUSES, SIM_STATUSES } from './inputs.js';
import { deleteDeviceConnection, recordDataUsage, upsertDeviceConnection, type DeviceKey } from './service.js';

type ConnectionType = (typeof CONNECTION_TYPES)[number];
type SimStatus = (typeof SIM_STATUSES)[number];
type NetworkStatus = (typeof NETWORK_STATUSES)[number];

builder.prismaObject('DeviceConnection', {
  description: "A device's network connection (one per device): carrier, SIM, data plan, address, network status",
  // Select mode: a page reads only the columns its selection asks for (a device list that wants
  // the carrier does not load the SIM, plan and metadata of every row).
  select: {},
  fields: (t) => ({
    deviceId: t.exposeString('deviceId', { extensions: sqlColumn('device_id') }),
    connectionType: t.field({ type: ConnectionTypeEnum, select: { connectionType: true }, extensions: sqlValue((c) => Prisma.sql`upper(${c}.connection_type)`), resolve: (c) => c.connectionType as ConnectionType }),
    carrierName: t.exposeString('carrierName', { nullable: true, extensions: sqlColumn('carrier_name') }),
    carrierAccountId: t.exposeString('carrierAccountId', { nullable: true, extensions: sqlColumn('carrier_account_id') }),
    planName: t.exposeString('planName', { nullable: true, extensions: sqlColumn('plan_name') }),
    apn: t.exposeString('apn', { nullable: true, extensions: sqlColumn('apn') }),
    simIccid: t.exposeString('simIccid', { nullable: true, extensions: sqlColumn('sim_iccid') }),
    simStatus: t.field({ type: SimStatusEnum, nullable: true, select: { simStatus: true }, extensions: sqlValue((c) => Prisma.sql`upper(${c}.sim_status)`), resolve: (c) => c.simStatus as SimStatus | null }),
    dataLimitMb: t.exposeInt('dataLimitMb', { nullable: true, description: 'Monthly cap; null means unlimited', extensions: sqlColumn('data_limit_mb') }),
    billingCycleStart: t.exposeInt('billingCycleStart', { nullable: true, description: 'Day of month (1–28) the cycle resets', extensions: sqlColumn('billing_cycle_start') }),
    dataUsedMb: t.float({ nullable: true, select: { dataUsedMb: true }, extensions: sqlValue((c) => Prisma.sql`${c}.data_used_mb::float8`), resolve: (c) => (c.dataUsedMb === null ? null : c.dataUsedMb.toNumber()) }),
    dataUsedUpdatedAt: t.expose('dataUsedUpdatedAt', { type: 'DateTime', nullable: true, description: 'When usage was last synced from the carrier', extensions: sqlTimestamp('data_used_updated_at') }),
    // The same generated column the device filter uses, so the field and the filter never disagree.
    overDataLimit: t.exposeBoolean('overDataLimit', { description: 'Usage is above a (non-null) data limit', extensions: sqlColumn('over_data_limit') }),
    // inet's output form, as Prisma reads it ('10.0.0.1', not the `::text` cast's '10.0.0.1/32').
    ipAddress: t.exposeString('ipAddress', { nullable: true, extensions: sqlColumn('ip_address') }),
    msisdn: t.exposeString('msisdn', { nullable: true, extensions: sqlColumn('msisdn') }),
    networkStatus: t.field({ type: NetworkStatusEnum, nullable: true, select: { networkStatus: true }, extensions: sqlValue((c) => Prisma.sql`upper(${c}.network_status)`), resolve: (c) => c.networkStatus as NetworkStatus | null }),
    lastNetworkAttach: t.expose('lastNetworkAttach', { type: 'DateTime', nullable: true, extensions: sqlTimestamp('last_network_attach') }),
    lastNetworkDetach: t.expose('lastNetworkDetach', { type: 'DateTime', nullable: true, extensions: sqlTimestamp('last_network_detach') }),
    metadata: t.expose('metadata', { type: 'JSONObject', extensions: sqlColumn('metadata') }),
    createdAt: t.expose('createdAt', { type: 'DateTime', extensions: sqlTimestamp('created_at') }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', extensions: sqlTimestamp('updated_at') }),
  }),
});

builder.prismaObjectField('Device', 'connection', (t) =>
  t.relation('connection', { nullable: true, extensions: sqlRelation('device_connections', ['tenant_id', 'device_id'], { list: false }) }),
);

const UpsertDeviceConnectionInput = builder.inputType('UpsertDeviceConnectionInput', {
  description: 'Omitted fields keep their value (or the default on creation); null clears a nullable field',
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    connectionType: t.field({ type: ConnectionTypeEnum }),
    carrierName: t.string(),
    carrierAccountId: t.string(),
    planName: t.string(),
    apn: t.string(),
    simIccid: t.string(),
    simStatus: t.field({ type: SimStatusEnum }),
    dataLimitMb: t.int({ description: 'Monthly cap in MB; null means unlimited' }),
    billingCycleStart: t.int({ description: 'Day of month, 1–28' }),
    ipAddress: t.string({ description: 'IPv4 or IPv6, optionally with a /prefix' }),
    msisdn: t.string(),
    networkStatus: t.field({ type: NetworkStatusEnum, description: 'A change to DISCONNECTED or CONNECTED is logged as a network detach or attach' }),
    lastNetworkAttach: t.field({ type: 'DateTime' }),
    lastNetworkDetach: t.field({ type: 'DateTime' }),
    metadata: t.field({ type: 'JSONObject' }),
  }),
});

const RecordDataUsageInput = builder.inputType('RecordDataUsageInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    tenantId: t.string({ description: "Defaults to the token's tenant" }),
    dataUsedMb: t.float({ required: true }),
    measuredAt: t.field({ type: 'DateTime', description: 'When the carrier measured it; defaults to now' }),
  }),
});

const connectionOf = (key: DeviceKey) => ({ tenantId_deviceId: key });

const UpsertDeviceConnectionPayload = builder.objectRef<{ key: DeviceKey }>('UpsertDeviceConnectionPayload').implement({
  fields: (t) => ({
    connection: t.prismaField({
      type: 'DeviceConnection',
      resolve: (query, payload, _args, ctx) => ctx.session.db.deviceConnection.findUniqueOrThrow({ ...query, where: connectionOf(payload.key) }),
    }),
  }),
});

const RecordDataUsagePayload = builder.objectRef<{ key: DeviceKey; applied: boolean }>('RecordDataUsagePayload').implement({
  fields: (t) => ({
    applied: t.exposeBoolean('applied', { description: 'False when a newer measurement was already stored' }),
    connection: t.prismaField({
      type: 'DeviceConnection',
      resolve: (query, payload, _args, ctx) => ctx.session.db.deviceConnection.findUniqueOrThrow({ ...query, where: connectionOf(payload.key) }),
    }),
  }),
});

const DeleteDeviceConnectionPayload = builder.objectRef<{ key: DeviceKey }>('DeleteDeviceConnectionPayload').implement({
  fields: (t) => ({
    deviceId: t.string({ resolve: (payload) => payload.key.deviceId }),
    device: t.prismaField({
      type: 'Device',
      resolve: (query, payload, _args, ctx) => ctx.session.db.device.findUniqueOrThrow({ ...query, where: { tenantId_deviceId: payload.key } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  upsertDeviceConnection: t.field({
    type: UpsertDeviceConnectionPayload,
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'UpsertDeviceConnectionResult' } },
    args: { input: t.arg({ type: UpsertDeviceConnectionInput, required: true }) },
    resolve: async (_root, args, ctx) => ({ key: await upsertDeviceConnection(ctx.session, args.input) }),
  }),
  deleteDeviceConnection: t.field({
    type: DeleteDeviceConnectionPayload,
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'DeleteDeviceConnectionResult' } },
    args: {
      input: t.arg({
        type: builder.inputType('DeleteDeviceConnectionInput', { fields: (f) => ({ deviceId: f.string({ required: true }) }) }),
        required: true,
      }),
    },
    resolve: async (_root, args, ctx) => ({ key: await deleteDeviceConnection(ctx.session, args.input.deviceId) }),
  }),
  recordDataUsage: t.field({
    type: RecordDataUsagePayload,
    description: 'Stores a carrier usage sync; IoT service role only',
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'RecordDataUsageResult' } },
    args: { input: t.arg({ type: RecordDataUsageInput, required: true }) },
    resolve: (_root, args, ctx) => recordDataUsage(ctx.session, args.input),
  }),
}));
