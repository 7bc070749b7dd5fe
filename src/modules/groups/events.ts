declare module '../../events/events.js' {
  interface PulseEvents {
    /** A device entered or left a group: added to / removed from a static one, or started / stopped matching a dynamic one. */
    deviceGroupMembershipChanged: { tenantId: string; groupId: string; deviceId: string; change: 'JOINED' | 'LEFT'; occurredAt: string };
  }
}

export {};
