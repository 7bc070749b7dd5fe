import { defineModule } from '../../platform/module.js';
import { apOfflineReaction, linksWorker } from './aging.js';
import { linksConfig } from './config.js';
import * as enums from './enums.js';
import * as interfaceSchema from './interface-schema.js';
import * as linkSchema from './link-schema.js';
import { linksMetrics } from './metrics.js';
import { wirelessRegistrationsTopic } from './mqtt.js';
import * as registrationSchema from './registration-schema.js';
import * as settingsSchema from './settings-schema.js';
import * as subscriptions from './subscriptions.js';
import './events.js';
import './payloads.js';

/**
 * Wireless links (seed 003): interfaces resolve MACs to devices; APs report their radios'
 * stations each poll; links AP radio → CPE run the state machine discovered → active → degraded
 * → down → stale; unresolved stations are kept; every change is stored and published.
 */
export const linksModule = defineModule({
  name: 'links',
  schema: [enums, interfaceSchema, linkSchema, registrationSchema, settingsSchema, subscriptions],
  inbound: [wirelessRegistrationsTopic],
  workers: [linksWorker],
  reactions: [apOfflineReaction],
  config: linksConfig,
  metrics: linksMetrics,
  events: ['wirelessLinkStateChanged'],
  deviceFields: ['interfaces', 'wirelessLinks', 'maintenanceWindows'],
});
