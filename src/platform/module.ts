/**
 * What a module contributes, in one descriptor: `src/modules/<domain>/module.ts` exports it and
 * `src/modules/index.ts` lists it. The platform reads descriptors and never imports a module.
 */
import type { ConfigSection } from '../config.js';
import type { PulseEventName } from '../events/events.js';
import type { AnyEventReaction, ReactionContext } from '../events/reactions.js';
import type { DeviceDimension, DeviceFilterTerm } from '../graphql/device-filter-terms.js';
import type { MetricsSection } from '../http/metrics.js';
import type { AnyDeviceWill, AnyInboundTopic, OutboundTopic } from '../mqtt/ingest.js';
import type { PeriodicWorker } from '../workers.js';

export interface PulseModule {
  /** The folder name under `src/modules/`. */
  name: string;
  /**
   * The module's Pothos files (their namespace objects). Listing them here imports them, which
   * registers their types and root fields on the builder before the schema is built.
   */
  schema?: readonly object[];
  /** Device → server topics: kind, topic pattern, payload schema and handler. */
  inbound?: readonly AnyInboundTopic[];
  /** Server → device topics it publishes (devices may subscribe to them). */
  outbound?: readonly OutboundTopic[];
  /** The will a device may leave at CONNECT (one module at most declares it). */
  deviceWill?: AnyDeviceWill;
  /** Periodic jobs; every instance runs them, so they must be safe to run concurrently. */
  workers?: readonly PeriodicWorker[];
  /** Work that follows committed events (of any module), in the process that committed them. */
  reactions?: readonly AnyEventReaction[];
  /**
   * Runs once at start-up, after the broker connection and before HTTP listens (e.g. re-publish
   * what a crash left queued). Must be safe when several instances start at once.
   */
  onStart?(context: ReactionContext): Promise<void>;
  /** Its environment variables and the typed section built from them. */
  config?: ConfigSection;
  metrics?: MetricsSection;
  /** Events it publishes (their payloads are declared on `PulseEvents` in its `events.ts`). */
  events?: readonly PulseEventName[];
  /** Fields it adds to `Device` (declared with `prismaObjectField` in its schema files). */
  deviceFields?: readonly string[];
  /** Codes of the typed errors it returns (members of the `ErrorCode` enum), e.g. `TWIN_VERSION_CONFLICT`. */
  errorCodes?: readonly string[];
  /** Fields it adds to the `DeviceFilter` input, with their SQL conditions. */
  deviceFilters?: readonly DeviceFilterTerm[];
  /** Dimensions it adds to `fleetSummary(groupBy:)`. */
  deviceDimensions?: readonly DeviceDimension[];
}

/** Declares a module; a no-op that gives the descriptor its type. */
export function defineModule<M extends PulseModule>(module: M): M {
  return module;
}
