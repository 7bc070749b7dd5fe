export type DeviceChange = 'REGISTERED' | 'UPDATED' | 'DECOMMISSIONED';

declare module '../../events/events.js' {
  interface PulseEvents {
    deviceChanged: { tenantId: string; deviceId: string; change: DeviceChange };
  }
}
