declare module '../../events/events.js' {
  interface PulseEvents {
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
}

export {};
