import { NotFoundError, ValidationError } from '../../kernel/errors.js';
import { builder } from '../../graphql/builder.js';
import { DeviceStatus } from './device-fields.js';
import { setPresenceTimeouts, type PresenceTimeouts } from './timeouts.js';
import type { PresenceStatus } from '../../kernel/presence.js';
import { batchLoad } from '../../graphql/batch-load.js';
import { devicesUptime, type Uptime } from './uptime.js';

export const ConnectionEventType = builder.enumType('ConnectionEventType', {
  values: {
    CONNECTED: { description: 'The device became ONLINE (or started a new session while ONLINE)' },
    DISCONNECTED: { description: 'The device became STALE or OFFLINE' },
  } as const,
});

builder.prismaNode('DeviceConnectionEvent', {
  description: 'One entry of the append-only connectivity log',
  nullable: true,
  id: { resolve: (event) => event.id.toString() },
  findUnique: (id) => ({ id: /^[0-9]{1,19}$/.test(id) ? BigInt(id) : -1n }),
  fields: (t) => ({
    eventId: t.id({ description: 'The log entry number (the same as the subscription event eventId)', resolve: (event) => event.id.toString() }),
    deviceId: t.exposeString('deviceId'),
    eventType: t.field({ type: ConnectionEventType, resolve: (event) => event.eventType as 'CONNECTED' | 'DISCONNECTED' }),
    reason: t.exposeString('reason', {
      description: 'MQTT_CONNECT, MQTT_RECONNECT, LWT, HEARTBEAT, DEVICE_MESSAGE, STALE, HEARTBEAT_TIMEOUT, NETWORK_ATTACH or NETWORK_DETACH',
    }),
    previousStatus: t.field({ type: DeviceStatus, nullable: true, resolve: (event) => event.previousStatus as PresenceStatus | null }),
    newStatus: t.field({ type: DeviceStatus, resolve: (event) => event.newStatus as PresenceStatus }),
    sessionId: t.exposeString('sessionId', { nullable: true, description: 'The MQTT session the device was in' }),
    details: t.expose('details', { type: 'JSONObject' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField('Device', 'connectionEvents', (t) =>
  t.relatedConnection('connectionEvents', {
    description: 'The connectivity log, newest first; `since` is inclusive, `until` exclusive',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 500,
    args: { since: t.arg({ type: 'DateTime' }), until: t.arg({ type: 'DateTime' }) },
    query: (args) => ({
      where: { occurredAt: { ...(args.since && { gte: args.since }), ...(args.until && { lt: args.until }) } },
      orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
    }),
    totalCount: true,
  }, { name: 'DeviceConnectionEventsConnection' }, { name: 'DeviceConnectionEventsEdge' }),
);

const DeviceUptime = builder.objectRef<Uptime>('DeviceUptime').implement({
  fields: (t) => ({
    since: t.expose('since', { type: 'DateTime' }),
    until: t.expose('until', { type: 'DateTime' }),
    onlineSeconds: t.exposeFloat('onlineSeconds', { description: 'Seconds ONLINE in the elapsed part of the window' }),
    ratio: t.exposeFloat('ratio', { description: 'onlineSeconds over the elapsed part of the window, 0..1' }),
  }),
});

builder.prismaObjectField('Device', 'uptime', (t) =>
  t.field({
    type: DeviceUptime,
    description: 'Time ONLINE over a window (default: the last 24 hours), computed from the connectivity log',
    args: { since: t.arg({ type: 'DateTime' }), until: t.arg({ type: 'DateTime' }) },
    // Batched: a page of devices with uptime is one statement per tenant and window, not one per device.
    resolve: async (device, args, ctx) =>
      (await batchLoad(ctx, `uptime|${device.tenantId}|${args.since?.toISOString()}|${args.until?.toISOString()}`, device.deviceId, (deviceIds) =>
        devicesUptime(ctx.session, device.tenantId, deviceIds, args),
      ))!,
  }),
);

const PresenceTimeoutsRef = builder.objectRef<PresenceTimeouts>('PresenceTimeouts').implement({
  description: 'Silence after which a device becomes STALE, then OFFLINE, as now in effect',
  fields: (t) => ({
    staleAfterSeconds: t.exposeInt('staleAfterSeconds'),
    offlineAfterSeconds: t.exposeInt('offlineAfterSeconds'),
  }),
});

const SetPresenceTimeoutsInput = builder.inputType('SetPresenceTimeoutsInput', {
  fields: (t) => ({
    deviceId: t.string({ description: "One device's override; omit to set the tenant's defaults" }),
    staleAfterSeconds: t.int({ description: 'Omit to keep, null to clear (fall back to the next level)' }),
    offlineAfterSeconds: t.int({ description: 'Must be greater than staleAfterSeconds' }),
  }),
});

const SetPresenceTimeoutsPayload = builder.objectRef<PresenceTimeouts>('SetPresenceTimeoutsPayload').implement({
  fields: (t) => ({ timeouts: t.field({ type: PresenceTimeoutsRef, description: 'The timeouts now in effect', resolve: (timeouts) => timeouts }) }),
});

builder.mutationFields((t) => ({
  setPresenceTimeouts: t.field({
    type: SetPresenceTimeoutsPayload,
    description: "Sets a device's presence timeouts, or its tenant's defaults; returns those now in effect",
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: 'SetPresenceTimeoutsResult' } },
    args: { input: t.arg({ type: SetPresenceTimeoutsInput, required: true }) },
    resolve: (_root, args, ctx) => setPresenceTimeouts(ctx.session, args.input, ctx.services.config.presence),
  }),
}));
