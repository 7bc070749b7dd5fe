declare module '../../events/events.js' {
  interface PulseEvents {
    /** A device's connection was created, changed (fields or data usage) or deleted. */
    deviceConnectionChanged: { tenantId: string; deviceId: string; change: 'CREATED' | 'UPDATED' | 'DELETED' };
  }
}

export {};
