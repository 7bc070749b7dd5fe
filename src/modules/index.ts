/**
 * Every module Pulse runs, one line each. Adding a module is a folder under `src/modules/` with a
 * `module.ts` descriptor, and one line here; nothing outside its folder changes.
 */
import type { PulseModule } from '../platform/module.js';
import { alertsModule } from './alerts/module.js';
import { commandsModule } from './commands/module.js';
import { connectionsModule } from './connections/module.js';
import { connectivityModule } from './connectivity/module.js';
import { demoModule } from './demo/module.js';
import { devicesModule } from './devices/module.js';
import { groupsModule } from './groups/module.js';
import { linksModule } from './links/module.js';
import { sitesModule } from './sites/module.js';
import { telemetryModule } from './telemetry/module.js';
import { tenantsModule } from './tenants/module.js';
import { twinModule } from './twin/module.js';

export const pulseModules: readonly PulseModule[] = [
  tenantsModule,
  sitesModule,
  devicesModule,
  connectivityModule,
  connectionsModule,
  twinModule,
  groupsModule,
  commandsModule,
  telemetryModule,
  alertsModule,
  linksModule,
  demoModule,
];
