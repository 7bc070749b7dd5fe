/**
 * Links that no poll will move: STALE when not seen for the stale age or when their AP is
 * OFFLINE, DOWN when their AP radio stopped reporting altogether. A periodic worker sweeps every
 * tenant; a reaction to an AP going OFFLINE applies the same rules to that AP's links at once.
 * Unresolved registrations not seen for the stale age are dropped by the same sweep.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { SessionRunner, TenantSession } from '../../db/tenant-session.js';
import { defineReaction } from '../../events/reactions.js';
import { serviceScope } from '../../kernel/scope.js';
import { defineWorker } from '../../workers.js';
import { storedLinkColumns, storedMetrics, storedRefs, writeLinkChanges, type LinkChange, type StoredLinkColumns } from './link-writes.js';
import type { LinksMetrics } from './metrics.js';
import { inMaintenanceSql } from './poll-store.js';
import { stepLink, type LinkState, type LinkThresholds } from './state-machine.js';
import { SETTINGS_COLUMNS, effectiveThresholds, type SettingsColumns } from './thresholds.js';

const WORKER_SCOPE = serviceScope('links-worker');
const REACTION_SCOPE = serviceScope('links-ap-offline');
/** Links moved per transaction; a larger backlog is worked off in further transactions of the run. */
export const AGING_BATCH = 1_000;
/** Serialises the sweep across instances: one instance ages links at a time. */
const WORKER_LOCK = Prisma.sql`SELECT pg_advisory_xact_lock(hashtextextended('pulse:links-worker', 0))::text`;

export interface AgingScope {
  tenantId?: string;
  apDeviceId?: string;
  limit?: number;
}

type CandidateRow = SettingsColumns & StoredLinkColumns & {
  id: string;
  tenant_id: string;
  ap_device_id: string;
  ap_interface_name: string;
  cpe_mac: string;
  state: LinkState;
  missed_polls: number;
  good_polls: number;
  state_changed_at: Date;
  last_seen_at: Date;
  last_received_at: Date | null;
  ap_offline: boolean;
  ap_silent: boolean;
  in_maintenance: boolean;
};

const secondsSql = (column: string, fallback: number) => Prisma.sql`make_interval(secs => COALESCE(${Prisma.raw(column)}, ${fallback}::int)::float8)`;

/**
 * One batch: finds links due a tick as of `now` (locked; with `skipLocked`, rows a poll holds are
 * left for the next run instead of waited for), steps each through the state machine and writes
 * the results in one statement. Returns how many links were looked at.
 */
export async function ageLinks(
  session: TenantSession,
  now: Date,
  defaults: LinkThresholds,
  scope: AgingScope & { skipLocked: boolean },
  metrics?: LinksMetrics,
): Promise<number> {
  const limit = scope.limit ?? AGING_BATCH;
  const rows = await session.db.$queryRaw<CandidateRow[]>`
    SELECT l.id, l.tenant_id, l.ap_device_id, l.ap_interface_name, l.cpe_mac, l.state, l.missed_polls, l.good_polls,
           l.state_changed_at, l.last_seen_at, ${storedLinkColumns('l')}, p.last_received_at,
           COALESCE(st.status, 'OFFLINE') = 'OFFLINE' AS ap_offline,
           COALESCE(p.last_received_at <= ${now}::timestamptz - ${secondsSql('s.ap_silent_after_seconds', defaults.apSilentAfterSeconds)}, false) AS ap_silent,
           (${inMaintenanceSql(Prisma.sql`l.tenant_id`, Prisma.sql`l.ap_device_id`, now)}
             OR ${inMaintenanceSql(Prisma.sql`l.tenant_id`, Prisma.sql`l.cpe_device_id`, now)}) AS in_maintenance,
           ${SETTINGS_COLUMNS}
    FROM wireless_links l
    LEFT JOIN device_state st ON st.tenant_id = l.tenant_id AND st.device_id = l.ap_device_id
    LEFT JOIN wireless_ap_polls p ON p.tenant_id = l.tenant_id AND p.ap_device_id = l.ap_device_id AND p.interface_name = l.ap_interface_name
    LEFT JOIN wireless_link_settings s ON s.tenant_id = l.tenant_id
    WHERE l.state <> 'stale'
      AND (${scope.tenantId ?? null}::text IS NULL OR l.tenant_id = ${scope.tenantId ?? null}::text)
      AND (${scope.apDeviceId ?? null}::text IS NULL OR l.ap_device_id = ${scope.apDeviceId ?? null}::text)
      AND (COALESCE(st.status, 'OFFLINE') = 'OFFLINE'
           OR l.last_seen_at <= ${now}::timestamptz - ${secondsSql('s.stale_after_seconds', defaults.staleAfterSeconds)}
           OR (l.state <> 'down' AND p.last_received_at <= ${now}::timestamptz - ${secondsSql('s.ap_silent_after_seconds', defaults.apSilentAfterSeconds)}))
    ORDER BY l.id
    LIMIT ${limit}
    FOR UPDATE OF l ${scope.skipLocked ? Prisma.sql`SKIP LOCKED` : Prisma.empty}`;
  const changes: LinkChange[] = [];
  for (const row of rows) {
    const thresholds = effectiveThresholds(row, defaults);
    const status = { state: row.state, missedPolls: row.missed_polls, goodPolls: row.good_polls, stateSince: row.state_changed_at, lastSeenAt: row.last_seen_at };
    const step = stepLink(status, { kind: 'tick', at: now, apOffline: row.ap_offline, apSilent: row.ap_silent }, { thresholds, inMaintenance: row.in_maintenance });
    if (step.transitions.length === 0) continue;
    changes.push({
      key: { tenantId: row.tenant_id, apDeviceId: row.ap_device_id, apInterfaceName: row.ap_interface_name, cpeMac: row.cpe_mac },
      linkId: row.id,
      status: step.status,
      transitions: step.transitions,
      pollId: null,
      metrics: storedMetrics(row),
      refs: storedRefs(row),
      details: (transition) => ({
        lastSeenAt: row.last_seen_at.toISOString(),
        missedPolls: row.missed_polls,
        ...(transition.reason === 'NOT_SEEN' && { staleAfterSeconds: thresholds.staleAfterSeconds }),
        ...(transition.reason === 'AP_SILENT' && { apLastReportedAt: row.last_received_at?.toISOString(), apSilentAfterSeconds: thresholds.apSilentAfterSeconds }),
      }),
    });
  }
  await writeLinkChanges(session, changes, metrics);
  return rows.length;
}

/** Drops unresolved registrations not seen for their tenant's stale age. */
export async function purgeRegistrations(session: TenantSession, now: Date, defaults: LinkThresholds, tenantId?: string): Promise<number> {
  return session.db.$executeRaw`
    DELETE FROM wireless_registrations r
    USING (SELECT r2.id FROM wireless_registrations r2
           LEFT JOIN wireless_link_settings s ON s.tenant_id = r2.tenant_id
           WHERE (${tenantId ?? null}::text IS NULL OR r2.tenant_id = ${tenantId ?? null}::text)
             AND r2.last_seen_at <= ${now}::timestamptz - ${secondsSql('s.stale_after_seconds', defaults.staleAfterSeconds)}
           LIMIT ${AGING_BATCH}) old
    WHERE r.id = old.id`;
}

/**
 * The sweep: batches of {@link ageLinks} in service transactions until none is full, under the
 * worker's advisory lock so that instances take turns. `tenantId` narrows it (tests).
 */
export async function sweepLinks(runner: SessionRunner, now: Date, defaults: LinkThresholds, scope: AgingScope = {}, metrics?: LinksMetrics): Promise<void> {
  const limit = scope.limit ?? AGING_BATCH;
  for (;;) {
    const seen = await runner.run(WORKER_SCOPE, async (session) => {
      await session.db.$queryRaw(WORKER_LOCK);
      return ageLinks(session, now, defaults, { ...scope, limit, skipLocked: true }, metrics);
    });
    if (seen < limit) break;
  }
  for (;;) {
    const purged = await runner.run(WORKER_SCOPE, (session) => purgeRegistrations(session, now, defaults, scope.tenantId));
    if (purged < AGING_BATCH) break;
  }
}

/** Every 30 s by default: links go STALE or DOWN at most that long after it is due. */
export const linksWorker = defineWorker({
  name: 'links-aging',
  intervalMs: (config) => config.links.workerIntervalMs,
  async run({ runner, services, now }) {
    await sweepLinks(runner, now, services.config.links.defaults, {}, services.metrics.links);
  },
});

/**
 * An AP went OFFLINE: its links are STALE now, not at the next sweep. Waits for rows a poll holds
 * (the poll may be the AP coming back; the state machine then sees it ONLINE and does nothing).
 */
export const apOfflineReaction = defineReaction({
  name: 'links-ap-offline',
  event: 'deviceConnectivityChanged',
  async react(event, { runner, services }) {
    if (event.status !== 'OFFLINE') return;
    const scope = { tenantId: event.tenantId, apDeviceId: event.deviceId, limit: AGING_BATCH, skipLocked: false };
    // Every link a batch returns changes state, so a full batch means there may be more.
    while ((await runner.run(REACTION_SCOPE, (session) => ageLinks(session, new Date(), services.config.links.defaults, scope, services.metrics.links))) === AGING_BATCH);
  },
});
