import { builder } from '../../graphql/builder.js';
import { ValidationError } from '../../kernel/errors.js';
import { valueOf } from './samples.js';
import { batchLoad } from '../../graphql/batch-load.js';
import { devicesTelemetryHistory, groupTelemetry, parseHistoryRequest, setTelemetryRetention, telemetryRetention, type TelemetryBucket, type TelemetryRetention } from './service.js';

export const TelemetryValueType = builder.enumType('TelemetryValueType', {
  values: { NUMBER: {}, BOOLEAN: {}, STRING: {} } as const,
});

builder.prismaObject('TelemetryLatest', {
  name: 'TelemetryValue',
  description: 'The newest sample of one metric of a device',
  fields: (t) => ({
    metric: t.exposeString('metric'),
    value: t.field({ type: 'JSON', description: 'A number, boolean or string, as the device sent it', resolve: (row) => valueOf(row) }),
    type: t.field({
      type: TelemetryValueType,
      resolve: (row) => (row.valueNum !== null ? 'NUMBER' : row.valueBool !== null ? 'BOOLEAN' : 'STRING'),
    }),
    ts: t.expose('time', { type: 'DateTime', description: 'When it was measured (the device’s ts, else when it was received)' }),
  }),
});

/** `Device.telemetry`: a variant of the device, so its `latest` joins into the device's own statement. */
const DeviceTelemetry = builder.prismaObject('Device', {
  variant: 'DeviceTelemetry',
  fields: (t) => ({
    latest: t.relation('telemetryLatest', {
      description: 'The latest value of each metric (or of the metrics named), by metric name',
      args: { metrics: t.arg.stringList({ description: 'Only these metrics (at most 256)' }) },
      query: (args) => {
        if (args.metrics && args.metrics.length > 256) throw ValidationError.single(['metrics'], 'at most 256 metrics', 'TOO_BIG');
        return { where: args.metrics ? { metric: { in: args.metrics } } : {}, orderBy: { metric: 'asc' } };
      },
    }),
  }),
});

builder.prismaObjectField('Device', 'telemetry', (t) => t.variant(DeviceTelemetry));

export const TelemetryAggregate = builder.enumType('TelemetryAggregate', {
  values: {
    AVG: { value: 'avg' },
    MIN: { value: 'min' },
    MAX: { value: 'max' },
    SUM: { value: 'sum' },
    COUNT: { value: 'count', description: 'Samples in the bucket, of any type' },
    FIRST: { value: 'first', description: 'The earliest sample of the bucket' },
    LAST: { value: 'last', description: 'The latest sample of the bucket' },
  } as const,
});

const TelemetryBucketRef = builder.objectRef<TelemetryBucket>('TelemetryBucket').implement({
  description: 'One time bucket of a metric: [startAt, endAt), aligned to the Unix epoch (UTC)',
  fields: (t) => ({
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    value: t.exposeFloat('value', { nullable: true, description: 'The aggregate; booleans count as 1 and 0, strings only for COUNT' }),
    count: t.exposeInt('count', { description: 'Samples the aggregate was computed over' }),
  }),
});

const historyArgs = (t: Parameters<Parameters<typeof builder.queryFields>[0]>[0]) => ({
  metric: t.arg.string({ required: true }),
  from: t.arg({ type: 'DateTime', required: true, description: 'Inclusive' }),
  to: t.arg({ type: 'DateTime', required: true, description: 'Exclusive' }),
  bucket: t.arg.string({ required: true, description: 'An interval: "30 seconds", "1 minute", "15 minutes", "1 hour", "1 day"' }),
  aggregate: t.arg({ type: TelemetryAggregate, required: true }),
});

builder.prismaObjectField('Device', 'telemetryHistory', (t) =>
  t.field({
    type: [TelemetryBucketRef],
    description: 'A metric in time buckets over [from, to), one aggregate per bucket; empty buckets are left out (at most 10,000 buckets)',
    args: {
      metric: t.arg.string({ required: true }),
      from: t.arg({ type: 'DateTime', required: true, description: 'Inclusive' }),
      to: t.arg({ type: 'DateTime', required: true, description: 'Exclusive' }),
      bucket: t.arg.string({ required: true, description: 'An interval: "30 seconds", "1 minute", "15 minutes", "1 hour", "1 day"' }),
      aggregate: t.arg({ type: TelemetryAggregate, required: true }),
    },
    // Batched: a page of devices asking the same history is one statement, not one per device.
    resolve: async (device, args, ctx) => {
      const request = parseHistoryRequest(args);
      const batch = `telemetryHistory|${device.tenantId}|${JSON.stringify(request)}`;
      const buckets = await batchLoad(ctx, batch, device.deviceId, (deviceIds) => devicesTelemetryHistory(ctx.session, device.tenantId, deviceIds, request));
      return buckets ?? [];
    },
  }),
);

const TelemetryRetentionRef = builder.objectRef<TelemetryRetention>('TelemetryRetention').implement({
  fields: (t) => ({
    retentionDays: t.exposeInt('retentionDays', { description: 'Days samples are kept' }),
    custom: t.exposeBoolean('custom', { description: 'The tenant set it; false while the server default applies' }),
  }),
});

builder.queryFields((t) => ({
  groupTelemetry: t.field({
    type: [TelemetryBucketRef],
    description: "A metric across a group's current members, in time buckets over [from, to): one aggregate per bucket over all their samples",
    args: { groupId: t.arg.string({ required: true }), ...historyArgs(t) },
    resolve: (_root, { groupId, ...request }, ctx) => groupTelemetry(ctx.session, groupId, request),
  }),
  telemetryRetention: t.field({
    type: TelemetryRetentionRef,
    description: "How long the caller's tenant keeps telemetry samples",
    resolve: (_root, _args, ctx) => telemetryRetention(ctx.session, ctx.services.config.telemetry.retentionDays),
  }),
}));

const SetTelemetryRetentionInput = builder.inputType('SetTelemetryRetentionInput', {
  fields: (t) => ({
    retentionDays: t.int({ description: '1 to 3650; null returns to the server default (TELEMETRY_RETENTION_DAYS)' }),
  }),
});

const SetTelemetryRetentionPayload = builder.objectRef<TelemetryRetention>('SetTelemetryRetentionPayload').implement({
  fields: (t) => ({ retention: t.field({ type: TelemetryRetentionRef, description: 'The retention now in effect', resolve: (retention) => retention }) }),
});

builder.mutationFields((t) => ({
  setTelemetryRetention: t.field({
    type: SetTelemetryRetentionPayload,
    description: 'Sets how many days of telemetry samples the tenant keeps',
    errors: { types: [ValidationError], directResult: true, union: { name: 'SetTelemetryRetentionResult' } },
    args: { input: t.arg({ type: SetTelemetryRetentionInput, required: true }) },
    resolve: (_root, args, ctx) =>
      setTelemetryRetention(ctx.session, { retentionDays: args.input.retentionDays ?? null }, ctx.services.config.telemetry.retentionDays),
  }),
}));
