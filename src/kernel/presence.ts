/** A device's presence as Pulse tracks it; a device that never connected counts as OFFLINE. */
export const PRESENCE_STATUSES = ['ONLINE', 'STALE', 'OFFLINE'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

export function isPresenceStatus(value: unknown): value is PresenceStatus {
  return typeof value === 'string' && (PRESENCE_STATUSES as readonly string[]).includes(value);
}
