import { z } from 'zod';
import { builder } from '../../graphql/builder.js';
import { Prisma } from '../../generated/prisma/client.js';
import { defineFilterTerm, type DeviceDimension } from '../../graphql/device-filter-terms.js';
import { sqlValue } from '../../graphql/sql-reads.js';
import { PRESENCE_STATUSES, type PresenceStatus } from '../../kernel/presence.js';

export const DeviceStatus = builder.enumType('DeviceStatus', {
  values: {
    ONLINE: { description: 'Connected and heard from within its stale timeout' },
    STALE: { description: 'Not heard from within its stale timeout, not yet offline' },
    OFFLINE: { description: 'Disconnected, or silent past its offline timeout' },
  } as const,
});

builder.prismaObjectFields('Device', (t) => ({
  status: t.field({
    type: DeviceStatus,
    select: { state: { select: { status: true } } },
    resolve: (device) => (device.state?.status ?? 'OFFLINE') as PresenceStatus,
    // A device without a state row has never connected: OFFLINE, as the resolver says.
    extensions: sqlValue((d) => Prisma.sql`COALESCE((SELECT s.status FROM device_state s WHERE s.tenant_id = ${d}.tenant_id AND s.device_id = ${d}.device_id), 'OFFLINE')`),
  }),
  lastSeenAt: t.field({
    type: 'DateTime',
    nullable: true,
    select: { state: { select: { lastSeenAt: true } } },
    resolve: (device) => device.state?.lastSeenAt ?? null,
    extensions: sqlValue(
      (d) =>
        Prisma.sql`(SELECT to_char(s.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM device_state s WHERE s.tenant_id = ${d}.tenant_id AND s.device_id = ${d}.device_id)`,
    ),
  }),
}));

/**
 * A time bound: a Date from the GraphQL DateTime scalar, or its ISO string when a dynamic group's
 * stored filter (JSON) is read back.
 */
const instant = z.union([z.date(), z.iso.datetime({ offset: true }).transform((text) => new Date(text))]);

const onState = (device: Prisma.Sql, condition: Prisma.Sql) =>
  Prisma.sql`EXISTS (SELECT 1 FROM device_state s WHERE s.tenant_id = ${device}.tenant_id AND s.device_id = ${device}.device_id AND ${condition})`;

/** The presence terms of `DeviceFilter`. A device without a state row has never connected: it counts as OFFLINE. */
export const presenceFilterTerms = [
  defineFilterTerm({
    field: 'status',
    schema: z.array(z.enum(PRESENCE_STATUSES)).min(1).max(PRESENCE_STATUSES.length).nullish(),
    input: (t) => t.field({ type: [DeviceStatus], description: 'The device is in one of these presence states' }),
    sql: (statuses, { device }) => {
      const inState = onState(device, Prisma.sql`s.status = ANY(${statuses as string[]}::text[])`);
      return statuses.includes('OFFLINE')
        ? Prisma.sql`(${inState} OR NOT EXISTS (SELECT 1 FROM device_state s WHERE s.tenant_id = ${device}.tenant_id AND s.device_id = ${device}.device_id))`
        : inState;
    },
    dependsOn: ['presence'],
  }),
  defineFilterTerm({
    field: 'lastSeenBefore',
    schema: instant.nullish(),
    input: (t) => t.field({ type: 'DateTime', description: 'Last heard from before this time, or never' }),
    sql: (before, { device }) =>
      Prisma.sql`NOT ${onState(device, Prisma.sql`s.last_seen_at >= ${before}::timestamptz`)}`,
    dependsOn: ['presence'],
  }),
  defineFilterTerm({
    field: 'lastSeenAfter',
    schema: instant.nullish(),
    input: (t) => t.field({ type: 'DateTime', description: 'Last heard from at or after this time' }),
    sql: (after, { device }) => onState(device, Prisma.sql`s.last_seen_at >= ${after}::timestamptz`),
    dependsOn: ['presence'],
  }),
];

export const presenceDimensions: DeviceDimension[] = [
  {
    name: 'STATUS',
    description: 'The presence status (ONLINE, STALE, OFFLINE)',
    sql: (device) =>
      Prisma.sql`COALESCE((SELECT s.status FROM device_state s WHERE s.tenant_id = ${device}.tenant_id AND s.device_id = ${device}.device_id), 'OFFLINE')`,
  },
];
