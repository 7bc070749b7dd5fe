import type { PresenceStatus } from '../../kernel/presence.js';

declare module '../../events/events.js' {
  interface PulseEvents {
    deviceConnectivityChanged: {
      tenantId: string;
      deviceId: string;
      eventId: string;
      /** Null for a device's first transition (it had no status before). */
      previousStatus: PresenceStatus | null;
      status: PresenceStatus;
      reason: string;
      occurredAt: string;
    };
  }
}

export {};
