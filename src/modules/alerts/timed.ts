/**
 * The time-based rules: a worker raises (and, as a sweep, clears) OFFLINE-for and
 * twin-not-converged alerts; reactions clear them as soon as the device is back or converged.
 * One evaluator runs at a time across instances (a transaction-level advisory lock); the
 * statements are idempotent anyway, so a second one would only find nothing to do.
 */
import type { SessionRunner, TenantSession } from '../../db/tenant-session.js';
import { defineReaction } from '../../events/reactions.js';
import { serviceScope } from '../../kernel/scope.js';
import type { AppServices } from '../../services.js';
import { defineWorker } from '../../workers.js';
import { findGroup } from '../groups/membership.js';
import { publishAlertTransitions, type AlertTransition } from './publish.js';
import { clearTimedAlerts, raiseTimedAlerts, timedRuleGroups, type TimedKind, type TimedScope } from './timed-store.js';

const EVALUATOR_SCOPE = serviceScope('alerts-evaluator');
const KINDS: readonly TimedKind[] = ['offline', 'twin_not_converged'];

async function evaluateOnce(session: TenantSession, services: Pick<AppServices, 'metrics'>, now: Date, scope: TimedScope, limit: number): Promise<AlertTransition[]> {
  // Waits for another instance's run rather than skipping it, at most lock_timeout.
  await session.db.$executeRaw`SELECT set_config('lock_timeout', '5s', true)`;
  await session.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('pulse.alerts.timed-rules'))`;
  const groups = [];
  for (const { tenantId, groupId } of await timedRuleGroups(session, scope)) groups.push(await findGroup(session, tenantId, groupId));
  const transitions: AlertTransition[] = [];
  for (const kind of KINDS) {
    transitions.push(...(await clearTimedAlerts(session, kind, now, scope, limit)));
    transitions.push(...(await raiseTimedAlerts(session, kind, now, groups, scope, limit)));
  }
  publishAlertTransitions(session, services, transitions);
  return transitions;
}

/**
 * Evaluates the OFFLINE-for and twin-not-converged rules as of `now` (all tenants, or `scope`),
 * in transactions of at most `evaluatorBatch` raises and clears per kind until nothing is left.
 */
export async function evaluateTimedRules(
  runner: SessionRunner,
  services: Pick<AppServices, 'metrics' | 'config'>,
  now: Date,
  scope: TimedScope = {},
): Promise<AlertTransition[]> {
  const limit = services.config.alerts.evaluatorBatch;
  const all: AlertTransition[] = [];
  for (;;) {
    const batch = await runner.run(EVALUATOR_SCOPE, (session) => evaluateOnce(session, services, now, scope, limit));
    all.push(...batch);
    if (batch.length < limit) return all;
  }
}

export const timedRulesWorker = defineWorker({
  name: 'alerts-evaluator',
  intervalMs: (config) => config.alerts.evaluatorIntervalMs,
  async run({ runner, services, logger, now }) {
    const transitions = await evaluateTimedRules(runner, services, now);
    if (transitions.length > 0) logger.debug({ transitions: transitions.length }, 'time-based alert rules');
  },
});

const REACTION_SCOPE = serviceScope('alerts-reaction');

/** A device that came back clears its OFFLINE alerts at once, not at the next evaluator run. */
export const clearOfflineOnReconnect = defineReaction({
  name: 'alerts-clear-offline',
  event: 'deviceConnectivityChanged',
  async react(event, { runner, services }) {
    if (event.status === 'OFFLINE') return;
    const scope = { tenantId: event.tenantId, deviceId: event.deviceId };
    await runner.run(REACTION_SCOPE, async (session) =>
      publishAlertTransitions(session, services, await clearTimedAlerts(session, 'offline', new Date(event.occurredAt), scope, 100)),
    );
  },
});

/** A device whose report converged its twin clears its not-converged alerts at once. */
export const clearNotConvergedOnSync = defineReaction({
  name: 'alerts-clear-twin-not-converged',
  event: 'deviceTwinChanged',
  async react(event, { runner, services }) {
    if (event.syncStatus !== 'IN_SYNC') return;
    const scope = { tenantId: event.tenantId, deviceId: event.deviceId };
    await runner.run(REACTION_SCOPE, async (session) =>
      publishAlertTransitions(session, services, await clearTimedAlerts(session, 'twin_not_converged', new Date(event.occurredAt), scope, 100)),
    );
  },
});
