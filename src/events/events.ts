/**
 * The one typed map of events that cross from writers to subscribers. Empty here: each module
 * adds its events by declaration merging in its own `events.ts`, e.g.
 * `declare module '../../events/events.js' { interface PulseEvents { deviceChanged: {...} } }`.
 *
 * Payloads are plain JSON (they may travel through Redis) and carry keys, not records:
 * subscription resolvers re-fetch the record in the subscriber's own tenant transaction, so nested
 * selections stay correct. Every channel is keyed by tenant (`tenantId` is required), so a
 * subscriber can only ever listen to its own tenant.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PulseEvents {}

export type PulseEventName = keyof PulseEvents & string;

/** What every event payload carries: the tenant whose channel it travels on. */
export interface TenantEvent {
  tenantId: string;
}
