/**
 * The presence evaluator: devices that went silent move ONLINE → STALE → OFFLINE. Set-based: one
 * statement finds every due device across all tenants, moves it and appends its event. Rows
 * another transaction holds (a heartbeat being applied, another instance's evaluator) are
 * skipped, not waited for, and looked at again next run, so several instances never log one
 * transition twice and never block each other.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SessionRunner, TenantSession } from '../../db/tenant-session.js';
import { serviceScope } from '../../kernel/scope.js';
import { defineWorker } from '../../workers.js';
import { effectiveTimeoutsJoin, type PresenceTimeouts } from './timeouts.js';
import { TRANSITION_COLUMNS, publishTransitions, type TransitionRow } from './transitions.js';

const EVALUATOR_SCOPE = serviceScope('presence-evaluator');

/** Devices moved per transaction; a larger backlog is worked off in further transactions of the same run. */
export const EVALUATOR_BATCH = 1_000;

/** Narrows an evaluation to one tenant (tests, and re-evaluating a tenant after changing its timeouts). */
export interface EvaluationScope {
  tenantId?: string;
  limit?: number;
}

/**
 * Moves every due device one step, as of `now`: ONLINE devices silent for their stale timeout
 * become STALE (reason STALE), ONLINE or STALE devices silent for their offline timeout become
 * OFFLINE (reason HEARTBEAT_TIMEOUT). Returns the appended events (their notifications are queued
 * on the session for after commit).
 */
export async function markSilentDevices(
  session: TenantSession,
  now: Date,
  defaults: PresenceTimeouts,
  { tenantId, limit = EVALUATOR_BATCH }: EvaluationScope = {},
): Promise<TransitionRow[]> {
  const offlineDue = Prisma.sql`(s.last_seen_at IS NULL OR s.last_seen_at <= ${now}::timestamptz - make_interval(secs => t.offline_after::float8))`;
  const staleDue = Prisma.sql`(s.last_seen_at IS NULL OR s.last_seen_at <= ${now}::timestamptz - make_interval(secs => t.stale_after::float8))`;
  const rows = await session.query<TransitionRow>(Prisma.sql`
    WITH due AS (
      SELECT s.tenant_id, s.device_id, s.status AS previous_status, s.last_seen_at,
             CASE WHEN ${offlineDue} THEN 'OFFLINE' ELSE 'STALE' END AS new_status
      FROM device_state s
      LEFT JOIN tenants tn ON tn.tenant_id = s.tenant_id
      ${effectiveTimeoutsJoin(defaults)}
      WHERE s.status <> 'OFFLINE' AND ${staleDue} AND (s.status = 'ONLINE' OR ${offlineDue})
        AND (${tenantId ?? null}::text IS NULL OR s.tenant_id = ${tenantId ?? null}::text)
      LIMIT ${limit}
      FOR UPDATE OF s SKIP LOCKED
    ),
    updated AS (
      UPDATE device_state s SET status = d.new_status, status_changed_at = GREATEST(s.status_changed_at, ${now}::timestamptz)
      FROM due d
      WHERE s.tenant_id = d.tenant_id AND s.device_id = d.device_id
      RETURNING s.tenant_id, s.device_id, d.previous_status, s.status AS new_status, s.session_id, s.status_changed_at, d.last_seen_at
    )
    INSERT INTO device_connection_events
      (tenant_id, device_id, event_type, reason, previous_status, new_status, session_id, details, occurred_at)
    SELECT tenant_id, device_id, 'DISCONNECTED', CASE WHEN new_status = 'STALE' THEN 'STALE' ELSE 'HEARTBEAT_TIMEOUT' END,
           previous_status, new_status, session_id, jsonb_build_object('lastSeenAt', last_seen_at), status_changed_at
    FROM updated
    RETURNING ${TRANSITION_COLUMNS}`);
  publishTransitions(session, rows);
  return rows;
}

/** Runs {@link markSilentDevices} in service-scoped transactions until no due device is left; returns the moves. */
export async function evaluatePresence(
  runner: SessionRunner,
  now: Date,
  defaults: PresenceTimeouts,
  scope: EvaluationScope = {},
): Promise<TransitionRow[]> {
  const moved: TransitionRow[] = [];
  for (;;) {
    const batch = await runner.run(EVALUATOR_SCOPE, (session) => markSilentDevices(session, now, defaults, scope));
    moved.push(...batch);
    if (batch.length < (scope.limit ?? EVALUATOR_BATCH)) return moved;
  }
}

/**
 * The connectivity module's worker. Every 10 s by default: well under the shortest sensible stale
 * timeout, so a transition is logged at most ~10 s after it became due.
 */
export const presenceEvaluatorWorker = defineWorker({
  name: 'presence-evaluator',
  intervalMs: (config) => config.presence.evaluatorIntervalMs,
  async run({ runner, services, logger, now }) {
    const moved = await evaluatePresence(runner, now, services.config.presence);
    for (const row of moved) services.metrics.presence.timeouts.inc({ status: row.new_status });
    if (moved.length > 0) logger.debug({ moved: moved.length }, 'presence transitions');
  },
});
