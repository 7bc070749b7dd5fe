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

/**
 * `auto` means the embedded default only, outside tests: a real database is never filled with
 * demo data unasked, and a test app (NODE_ENV=test) does not grow a fleet it did not ask for.
 */
export function demoWanted(mode: DemoMode, database: Database['kind'], nodeEnv: string): boolean {
  return mode === 'on' || mode === 'reset' || (mode === 'auto' && database === 'pglite' && nodeEnv !== 'test');
}

/** `npm run demo:reset`: tenant `demo` is deleted with everything it owns, to be seeded again. */
export async function resetDemoTenant(database: Database, logger: Logger): Promise<void> {
  const deleted = await deleteTenant(database, DEMO_TENANT);
  logger.child({ module: 'demo' }).info(deleted ? 'tenant "demo" deleted: the demo fleet will be seeded again' : 'tenant "demo" did not exist: the demo fleet will be seeded');
}

/** The running demo: `live` settles once its devices are connected (`undefined`: nothing to animate). */
export interface RunningDemo {
  live: Promise<LiveDemo | undefined>;
  stop(): Promise<void>;
}

/**
 * Seeds the fleet when tenant `demo` is empty and resolves once its devices are connected and
 * their day of telemetry is stored, so the first query shows the whole fleet. On later starts the
 * devices get new credentials and connect in the background: ready is not held back for them.
 */
export async function startDemo(options: { graphqlUrl: string; token: string; mqttUrl: string; logger: Logger }): Promise<RunningDemo> {
  const logger = options.logger.child({ module: 'demo' });
  const api = new PulseApi(options.graphqlUrl, options.token);
  const empty = await demoTenantIsEmpty(api);
  const startedAt = Date.now();
  const animate = async (): Promise<LiveDemo | undefined> => {
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
  };
  const live = animate();
  if (empty) await live;
  else live.catch((error: unknown) => logger.warn({ err: error }, 'the demo fleet could not connect; Pulse serves without it'));
  return {
    live,
    async stop() {
      const running = await live.catch(() => undefined);
      await running?.stop();
    },
  };
}
