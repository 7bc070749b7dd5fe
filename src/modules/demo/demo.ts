/**
 * When and how the demo fleet runs: on the embedded default unless `DEMO=false`, on a real
 * database only with `DEMO=true`; seeded on an empty tenant `demo`, animated on every start.
 */
import type { Database } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { DemoMode } from './config.js';
import { DEMO_DEVICES, DEMO_TENANT } from './fleet-plan.js';
import { liveCredentials, startLiveDemo, type LiveDemo } from './live.js';
import { demoTenantIsEmpty, seedDemoFleet } from './seed.js';
import { PulseApi } from './simulator/api.js';
import { deleteTenant } from './store.js';

/** `auto` means the embedded default only: a real database is never filled with demo data unasked. */
export function demoWanted(mode: DemoMode, database: Database['kind']): boolean {
  return mode === 'on' || mode === 'reset' || (mode === 'auto' && database === 'pglite');
}

/** `npm run demo:reset`: tenant `demo` is deleted with everything it owns, to be seeded again. */
export async function resetDemoTenant(database: Database, logger: Logger): Promise<void> {
  const deleted = await deleteTenant(database, DEMO_TENANT);
  logger.child({ module: 'demo' }).info(deleted ? 'tenant "demo" deleted: the demo fleet will be seeded again' : 'tenant "demo" did not exist: the demo fleet will be seeded');
}

/**
 * Seeds the fleet when tenant `demo` is empty, then connects its devices. Resolves once they are
 * connected (and, on the first start, their telemetry history is stored); `undefined` when there
 * is nothing to animate (the tenant holds other devices than the demo's).
 */
export async function startDemo(options: { graphqlUrl: string; token: string; mqttUrl: string; logger: Logger }): Promise<LiveDemo | undefined> {
  const logger = options.logger.child({ module: 'demo' });
  const api = new PulseApi(options.graphqlUrl, options.token);
  const empty = await demoTenantIsEmpty(api);
  const startedAt = Date.now();
  if (empty) logger.info(`seeding tenant "demo" with the demo fleet (${DEMO_DEVICES.length} devices, sites, groups, alert rules, a day of telemetry) …`);
  const credentials = empty ? await seedDemoFleet(api) : await liveCredentials(api);
  if (credentials.size === 0) {
    logger.info('tenant "demo" has devices but none of the demo fleet: nothing to animate');
    return undefined;
  }
  const live = await startLiveDemo({ api, mqttUrl: options.mqttUrl, credentials, history: empty, logger });
  logger.info(
    { devices: live.fleet.stats.connected, seconds: Number(((Date.now() - startedAt) / 1000).toFixed(1)) },
    `demo fleet live: ${live.fleet.stats.connected} simulated devices send heartbeats, telemetry and twin reports (DEMO=false turns it off)`,
  );
  return live;
}
