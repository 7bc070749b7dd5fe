/**
 * The one way link rows and their events are written: a batch of changes (new links, updated
 * links) and their transitions in ONE statement, whatever the batch size (unnest arrays into
 * data-modifying CTEs). The callers (a poll, the worker, the AP-offline reaction, resolving a
 * MAC) hold the rows' locks and decided the changes with the pure state machine.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { LinksMetrics } from './metrics.js';
import type { LinkState, LinkStatus, LinkTransition, LinkTransitionReason } from './state-machine.js';

/** What a station reported in its latest sighting. */
export interface StationMetrics {
  signalDbm: number | null;
  snrDb: number | null;
  noiseDbm: number | null;
  txRateMbps: number | null;
  rxRateMbps: number | null;
  ccq: number | null;
  uptimeS: number | null;
}

/** Which rows a link points at; written on creation and refreshed on every sighting. */
export interface LinkRefs {
  apInterfaceId: string | null;
  cpeDeviceId: string | null;
  cpeInterfaceId: string | null;
}

export interface LinkKey {
  tenantId: string;
  apDeviceId: string;
  apInterfaceName: string;
  cpeMac: string;
}

export interface LinkChange {
  key: LinkKey;
  /** Null for a link to create. */
  linkId: string | null;
  status: LinkStatus;
  transitions: LinkTransition[];
  /** The poll this change comes from (kept on the link and its events). */
  pollId: number | null;
  /** Omitted: the link keeps its last reported figures (a missed poll, a worker tick). */
  metrics?: StationMetrics;
  /** Omitted: the link keeps its references. Required for a new link. */
  refs?: LinkRefs;
  /** For a new link: when it was first seen (defaults to its lastSeenAt). */
  firstSeenAt?: Date;
  /** Stored with each of this change's events: the figures and counters that caused them. */
  details: (transition: LinkTransition) => Record<string, unknown>;
}

/** An appended event, as the write returns it (in append order). */
export interface LinkEventRow {
  id: bigint;
  tenant_id: string;
  link_id: string;
  ap_device_id: string;
  ap_interface_name: string;
  cpe_device_id: string | null;
  cpe_mac: string;
  from_state: LinkState | null;
  to_state: LinkState;
  reason: LinkTransitionReason;
  suppressed: boolean;
  occurred_at: Date;
}

const iso = (date: Date) => date.toISOString();

/**
 * Writes `changes` and appends their transitions; queues `wirelessLinkStateChanged` (after
 * commit) for every transition not suppressed by a maintenance window. New links that meanwhile
 * exist (created by a concurrent MAC resolution) are left alone, with their events.
 */
export async function writeLinkChanges(session: TenantSession, changes: readonly LinkChange[], metrics?: LinksMetrics): Promise<LinkEventRow[]> {
  if (changes.length === 0) return [];
  const col = <T>(pick: (change: LinkChange) => T) => changes.map(pick);
  const events = changes.flatMap((change) => change.transitions.map((transition) => ({ change, transition })));
  const ev = <T>(pick: (event: (typeof events)[number]) => T) => events.map(pick);
  const rows = await session.db.$queryRaw<LinkEventRow[]>(Prisma.sql`
    WITH input AS (
      SELECT * FROM unnest(
        ${col((c) => c.linkId)}::uuid[], ${col((c) => c.key.tenantId)}::text[], ${col((c) => c.key.apDeviceId)}::text[],
        ${col((c) => c.key.apInterfaceName)}::text[], ${col((c) => c.key.cpeMac)}::text[],
        ${col((c) => c.refs !== undefined)}::boolean[], ${col((c) => c.refs?.apInterfaceId ?? null)}::uuid[],
        ${col((c) => c.refs?.cpeDeviceId ?? null)}::text[], ${col((c) => c.refs?.cpeInterfaceId ?? null)}::uuid[],
        ${col((c) => c.status.state)}::text[], ${col((c) => c.status.missedPolls)}::int[], ${col((c) => c.status.goodPolls)}::int[],
        ${col((c) => iso(c.status.stateSince))}::text[]::timestamptz[], ${col((c) => iso(c.status.lastSeenAt))}::text[]::timestamptz[],
        ${col((c) => iso(c.firstSeenAt ?? c.status.lastSeenAt))}::text[]::timestamptz[],
        ${col((c) => (c.pollId === null ? null : String(c.pollId)))}::bigint[],
        ${col((c) => c.metrics !== undefined)}::boolean[],
        ${col((c) => c.metrics?.signalDbm ?? null)}::float8[], ${col((c) => c.metrics?.snrDb ?? null)}::float8[],
        ${col((c) => c.metrics?.noiseDbm ?? null)}::float8[], ${col((c) => c.metrics?.txRateMbps ?? null)}::float8[],
        ${col((c) => c.metrics?.rxRateMbps ?? null)}::float8[], ${col((c) => c.metrics?.ccq ?? null)}::float8[],
        ${col((c) => (c.metrics?.uptimeS == null ? null : String(c.metrics.uptimeS)))}::bigint[]
      ) AS i(link_id, tenant_id, ap_device_id, ap_interface_name, cpe_mac, has_refs, ap_interface_id, cpe_device_id, cpe_interface_id,
             state, missed_polls, good_polls, state_changed_at, last_seen_at, first_seen_at, last_poll_id,
             has_metrics, signal_dbm, snr_db, noise_dbm, tx_rate, rx_rate, ccq, uptime_s)
    ),
    updated AS (
      UPDATE wireless_links l SET
        state = i.state, missed_polls = i.missed_polls, good_polls = i.good_polls, state_changed_at = i.state_changed_at,
        last_seen_at = GREATEST(l.last_seen_at, i.last_seen_at), last_poll_id = COALESCE(i.last_poll_id, l.last_poll_id),
        ap_interface_id = CASE WHEN i.has_refs THEN i.ap_interface_id ELSE l.ap_interface_id END,
        cpe_device_id = CASE WHEN i.has_refs THEN i.cpe_device_id ELSE l.cpe_device_id END,
        cpe_interface_id = CASE WHEN i.has_refs THEN i.cpe_interface_id ELSE l.cpe_interface_id END,
        signal_dbm = CASE WHEN i.has_metrics THEN i.signal_dbm ELSE l.signal_dbm END,
        snr_db = CASE WHEN i.has_metrics THEN i.snr_db ELSE l.snr_db END,
        noise_dbm = CASE WHEN i.has_metrics THEN i.noise_dbm ELSE l.noise_dbm END,
        tx_rate = CASE WHEN i.has_metrics THEN i.tx_rate ELSE l.tx_rate END,
        rx_rate = CASE WHEN i.has_metrics THEN i.rx_rate ELSE l.rx_rate END,
        ccq = CASE WHEN i.has_metrics THEN i.ccq ELSE l.ccq END,
        uptime_s = CASE WHEN i.has_metrics THEN i.uptime_s ELSE l.uptime_s END
      FROM input i
      WHERE i.link_id IS NOT NULL AND l.tenant_id = i.tenant_id AND l.id = i.link_id
      RETURNING l.id, l.tenant_id, l.ap_device_id, l.ap_interface_name, l.cpe_device_id, l.cpe_mac
    ),
    inserted AS (
      INSERT INTO wireless_links (tenant_id, ap_device_id, ap_interface_name, ap_interface_id, cpe_mac, cpe_device_id, cpe_interface_id,
        state, missed_polls, good_polls, state_changed_at, first_seen_at, last_seen_at, last_poll_id,
        signal_dbm, snr_db, noise_dbm, tx_rate, rx_rate, ccq, uptime_s)
      SELECT tenant_id, ap_device_id, ap_interface_name, ap_interface_id, cpe_mac, cpe_device_id, cpe_interface_id,
        state, missed_polls, good_polls, state_changed_at, first_seen_at, last_seen_at, last_poll_id,
        signal_dbm, snr_db, noise_dbm, tx_rate, rx_rate, ccq, uptime_s
      FROM input WHERE link_id IS NULL
      ON CONFLICT (tenant_id, ap_device_id, ap_interface_name, cpe_mac) DO NOTHING
      RETURNING id, tenant_id, ap_device_id, ap_interface_name, cpe_device_id, cpe_mac
    ),
    written AS (SELECT * FROM updated UNION ALL SELECT * FROM inserted),
    logged AS (
      INSERT INTO wireless_link_events (tenant_id, link_id, from_state, to_state, reason, details, suppressed, poll_id, occurred_at)
      SELECT w.tenant_id, w.id, e.from_state, e.to_state, e.reason, e.details, e.suppressed, e.poll_id, e.occurred_at
      FROM unnest(
        ${ev((e) => e.change.key.tenantId)}::text[], ${ev((e) => e.change.key.apDeviceId)}::text[],
        ${ev((e) => e.change.key.apInterfaceName)}::text[], ${ev((e) => e.change.key.cpeMac)}::text[],
        ${ev((e) => e.transition.from)}::text[], ${ev((e) => e.transition.to)}::text[], ${ev((e) => e.transition.reason)}::text[],
        ${ev((e) => JSON.stringify(e.change.details(e.transition)))}::text[]::jsonb[], ${ev((e) => e.transition.suppressed)}::boolean[],
        ${ev((e) => (e.change.pollId === null ? null : String(e.change.pollId)))}::bigint[],
        ${ev((e) => iso(e.transition.at))}::text[]::timestamptz[]
      ) WITH ORDINALITY AS e(tenant_id, ap_device_id, ap_interface_name, cpe_mac, from_state, to_state, reason, details, suppressed, poll_id, occurred_at, ord)
      JOIN written w ON w.tenant_id = e.tenant_id AND w.ap_device_id = e.ap_device_id AND w.ap_interface_name = e.ap_interface_name AND w.cpe_mac = e.cpe_mac
      ORDER BY e.ord
      RETURNING id, tenant_id, link_id, from_state, to_state, reason, suppressed, occurred_at
    )
    SELECT g.id, g.tenant_id, g.link_id, w.ap_device_id, w.ap_interface_name, w.cpe_device_id, w.cpe_mac,
           g.from_state, g.to_state, g.reason, g.suppressed, g.occurred_at
    FROM logged g JOIN written w ON w.id = g.link_id
    ORDER BY g.id`);
  if (metrics && rows.length > 0) {
    // Counted once committed: a batch that rolls back and is retried must not count twice.
    session.afterCommit(async () => {
      for (const row of rows) metrics.transitions.inc({ state: row.to_state, suppressed: String(row.suppressed) });
    });
  }
  for (const row of rows) {
    if (row.suppressed) continue;
    session.publish('wirelessLinkStateChanged', {
      tenantId: row.tenant_id,
      linkId: row.link_id,
      eventId: row.id.toString(),
      apDeviceId: row.ap_device_id,
      apInterfaceName: row.ap_interface_name,
      cpeDeviceId: row.cpe_device_id,
      cpeMac: row.cpe_mac,
      fromState: row.from_state,
      toState: row.to_state,
      reason: row.reason,
      occurredAt: row.occurred_at.toISOString(),
    });
  }
  return rows;
}
