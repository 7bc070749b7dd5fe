import { twinReportedHandler } from '../modules/twin/mqtt.js';
import { heartbeatHandler, statusHandler } from '../modules/connectivity/mqtt.js';
import type { IngestHandler } from './ingest.js';
import type { InboundKind } from './topics.js';

/**
 * Every module's MQTT topic handlers, by kind. A module adds its handler here (one line each);
 * the bridge routes to this table and counts messages of kinds with no handler as unhandled.
 */
export const ingestHandlers: Partial<{ [K in InboundKind]: IngestHandler<K> }> = {
  twinReported: twinReportedHandler,
  status: statusHandler,
  heartbeat: heartbeatHandler,
};
