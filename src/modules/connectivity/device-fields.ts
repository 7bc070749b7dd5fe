import { z } from 'zod';
import { builder } from '../../graphql/builder.js';
import type { DeviceFilterTerm } from '../../graphql/device-filter-terms.js';
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
  }),
  lastSeenAt: t.field({
    type: 'DateTime',
    nullable: true,
    select: { state: { select: { lastSeenAt: true } } },
    resolve: (device) => device.state?.lastSeenAt ?? null,
  }),
}));

/** `DeviceFilter.status`. A device without a state row has never connected: it counts as OFFLINE. */
export const statusFilterTerm: DeviceFilterTerm = {
  field: 'status',
  schema: z.array(z.enum(PRESENCE_STATUSES)).max(PRESENCE_STATUSES.length).nullish(),
  input: (t) => t.field({ type: [DeviceStatus], description: 'The device is in one of these presence states' }),
  where: (value) => {
    const statuses = value as PresenceStatus[] | null | undefined;
    if (!statuses?.length) return null;
    const inState = { state: { is: { status: { in: statuses } } } };
    return statuses.includes('OFFLINE') ? { OR: [inState, { state: { is: null } }] } : inState;
  },
};
