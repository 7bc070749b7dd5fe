/**
 * Periodic work, safe on every instance at once: the expiry worker (EXPIRED / MISSED through the
 * partial index on expires_at, SKIP LOCKED so each row is done by one instance) and the dispatch
 * sweep (devices whose queue can move but whose reaction was lost, e.g. in a crash). The start-up
 * task runs both once, before the server takes traffic.
 */
import type { SessionRunner } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import { serviceScope } from '../../kernel/scope.js';
import type { Logger } from '../../logger.js';
import type { AppServices } from '../../services.js';
import { defineWorker } from '../../workers.js';
import { devicesReadyToDispatch, expireDue } from './delivery-store.js';
import { dispatcherFor } from './dispatcher.js';
import { publishTransitions } from './transitions.js';

/** Rows per expiry statement and devices per sweep page. */
const EXPIRY_BATCH = 1_000;
const SWEEP_PAGE = 500;

interface WorkContext {
  runner: SessionRunner;
  services: AppServices;
  logger: Logger;
  now: Date | null;
}

/** Closes every command whose TTL has passed by `now`; returns how many it closed. */
export async function expireCommands(context: WorkContext): Promise<number> {
  let total = 0;
  for (;;) {
    const closed = await context.runner.run(serviceScope('commands-expiry'), async (session) => {
      const rows = await expireDue(session, context.now, EXPIRY_BATCH);
      publishTransitions(session, context.services.metrics.commands, rows);
      return rows.length;
    });
    total += closed;
    if (closed < EXPIRY_BATCH) return total;
  }
}

/** Dispatches every ONLINE device with a claimable queued command and a free slot; returns how many devices. */
export async function sweepQueues(context: WorkContext): Promise<number> {
  const dispatcher = dispatcherFor(context);
  let after: DeviceKey | null = null;
  let total = 0;
  for (;;) {
    const page: DeviceKey[] = await context.runner.run(serviceScope('commands-sweep'), (session) =>
      devicesReadyToDispatch(session, { now: context.now, maxInFlight: context.services.config.commands.maxInFlight, limit: SWEEP_PAGE, after }),
    );
    if (page.length === 0) return total;
    await dispatcher.dispatch(page, context.now);
    total += page.length;
    if (page.length < SWEEP_PAGE) return total;
    after = page[page.length - 1]!;
  }
}

export const commandExpiryWorker = defineWorker({
  name: 'commands-expiry',
  intervalMs: (config) => config.commands.workerIntervalMs,
  async run(context) {
    const closed = await expireCommands(context);
    if (closed > 0) context.logger.debug({ closed }, 'commands expired or missed');
  },
});

export const commandSweepWorker = defineWorker({
  name: 'commands-dispatch-sweep',
  intervalMs: (config) => config.commands.workerIntervalMs,
  async run(context) {
    const devices = await sweepQueues(context);
    if (devices > 0) context.logger.debug({ devices }, 'held commands dispatched by the sweep');
  },
});
