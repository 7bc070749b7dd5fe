/**
 * The one typed map of events that cross from writers to subscribers. Payloads are plain JSON
 * (they may travel through Redis) and carry keys, not records: subscription resolvers re-fetch
 * the record in the subscriber's own tenant transaction, so nested selections stay correct.
 * Every channel is keyed by tenant, so a subscriber can only ever listen to its own tenant.
 */
export interface PulseEvents {
  deviceChanged: { tenantId: string; deviceId: string; change: 'REGISTERED' | 'UPDATED' | 'DECOMMISSIONED' };
  deviceConnectivityChanged: {
    tenantId: string;
    deviceId: string;
    eventId: string;
    previousStatus: string;
    status: string;
    reason: string;
    occurredAt: string;
  };
  deviceTwinChanged: {
    tenantId: string;
    deviceId: string;
    direction: 'DESIRED' | 'REPORTED';
    desiredVersion: number;
    reportedVersion: number;
    occurredAt: string;
    /** The twin's sync status right after this change (a later change may have moved it on). */
    syncStatus?: 'IN_SYNC' | 'PENDING' | 'STALE';
  };
}

export type PulseEventName = keyof PulseEvents;
