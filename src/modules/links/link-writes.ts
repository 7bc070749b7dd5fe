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

/** A link's stored figures and references, as statements that read links select them (`l.*` columns). */
export interface StoredLinkColumns {
  ap_interface_id: string | null;
  cpe_device_id: string | null;
  cpe_interface_id: string | null;
  signal_dbm: number | null;
  snr_db: number | null;
  noise_dbm: number | null;
  tx_rate: number | null;
  rx_rate: number | null;
  ccq: number | null;
  uptime_s: bigint | null;
}

/** The link columns {@link storedMetrics} and {@link storedRefs} read, for a `wireless_links` aliased `alias`. */
export function storedLinkColumns(alias: string): Prisma.Sql {
  const columns = ['ap_interface_id', 'cpe_device_id', 'cpe_interface_id', 'signal_dbm', 'snr_db', 'noise_dbm', 'tx_rate', 'rx_rate', 'ccq', 'uptime_s'];
  return Prisma.raw(columns.map((column) => `${alias}.${column}`).join(', '));
}

export function storedMetrics(row: StoredLinkColumns): StationMetrics {
  return {
    signalDbm: row.signal_dbm,
    snrDb: row.snr_db,
    noiseDbm: row.noise_dbm,
    txRateMbps: row.tx_rate,
    rxRateMbps: row.rx_rate,
    ccq: row.ccq,
    uptimeS: row.uptime_s === null ? null : Number(row.uptime_s),
  };
}

export function storedRefs(row: StoredLinkColumns): LinkRefs {
  return { apInterfaceId: row.ap_interface_id, cpeDeviceId: row.cpe_device_id, cpeInterfaceId: row.cpe_interface_id };
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
  /** The poll this change comes from (kept on the link and its events); null keeps the link's. */
  pollId: number | null;
  /** The figures to store: a sighting's, or the link's current ones (a missed poll, a worker tick). */
  metrics: StationMetrics;
  /** The references to store: resolved at a sighting, or the link's current ones. */
  refs: LinkRefs;
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
 * commit) for every transition not suppressed by a maintenance window. One upsert on the link key
 * for new and existing links alike: each row is an index probe, never a join the planner could
 * get wrong. Existing links are locked by the caller; a new link that meanwhile exists (created by
 * a concurrent MAC resolution, so with another id) is left alone, with its events.
 */
export async function writeLinkChanges(session: TenantSession, changes: readonly LinkChange[], metrics?: LinksMetrics): Promise<LinkEventRow[]> {
  if (changes.length === 0) return [];
  const col = <T>(pick: (change: LinkChange) => T) => changes.map(pick);
  const events = changes.flatMap((change) => change.transitions.map((transition) => ({ change, transition })));
  const ev = <T>(pick: (event: (typeof events)[number]) => T) => events.map(pick);
  const rows = await session.db.$queryRaw<LinkEventRow[]>(Prisma.sql`
    WITH written AS (
      INSERT INTO wireless_links AS l (id, tenant_id, ap_device_id, ap_interface_name, ap_interface_id, cpe_mac, cpe_device_id, cpe_interface_id,
        state, missed_polls, good_polls, state_changed_at, first_seen_at, last_seen_at, last_poll_id,
        signal_dbm, snr_db, noise_dbm, tx_rate, rx_rate, ccq, uptime_s)
      SELECT COALESCE(i.link_id, gen_random_uuid()), i.tenant_id, i.ap_device_id, i.ap_interface_name, i.ap_interface_id, i.cpe_mac,
        i.cpe_device_id, i.cpe_interface_id, i.state, i.missed_polls, i.good_polls, i.state_changed_at, i.first_seen_at, i.last_seen_at,
        i.last_poll_id, i.signal_dbm, i.snr_db, i.noise_dbm, i.tx_rate, i.rx_rate, i.ccq, i.uptime_s
      FROM unnest(
        ${col((c) => c.linkId)}::uuid[], ${col((c) => c.key.tenantId)}::text[], ${col((c) => c.key.apDeviceId)}::text[],
        ${col((c) => c.key.apInterfaceName)}::text[], ${col((c) => c.key.cpeMac)}::text[],
        ${col((c) => c.refs.apInterfaceId)}::uuid[], ${col((c) => c.refs.cpeDeviceId)}::text[], ${col((c) => c.refs.cpeInterfaceId)}::uuid[],
        ${col((c) => c.status.state)}::text[], ${col((c) => c.status.missedPolls)}::int[], ${col((c) => c.status.goodPolls)}::int[],
        ${col((c) => iso(c.status.stateSince))}::text[]::timestamptz[], ${col((c) => iso(c.status.lastSeenAt))}::text[]::timestamptz[],
        ${col((c) => iso(c.firstSeenAt ?? c.status.lastSeenAt))}::text[]::timestamptz[],
        ${col((c) => (c.pollId === null ? null : String(c.pollId)))}::bigint[],
        ${col((c) => c.metrics.signalDbm)}::float8[], ${col((c) => c.metrics.snrDb)}::float8[], ${col((c) => c.metrics.noiseDbm)}::float8[],
        ${col((c) => c.metrics.txRateMbps)}::float8[], ${col((c) => c.metrics.rxRateMbps)}::float8[], ${col((c) => c.metrics.ccq)}::float8[],
        ${col((c) => (c.metrics.uptimeS === null ? null : String(c.metrics.uptimeS)))}::bigint[]
      ) AS i(link_id, tenant_id, ap_device_id, ap_interface_name, cpe_mac, ap_interface_id, cpe_device_id, cpe_interface_id,
             state, missed_polls, good_polls, state_changed_at, last_seen_at, first_seen_at, last_poll_id,
             signal_dbm, snr_db, noise_dbm, tx_rate, rx_rate, ccq, uptime_s)
      ON CONFLICT (tenant_id, ap_device_id, ap_interface_name, cpe_mac) DO UPDATE SET
        state = EXCLUDED.state, missed_polls = EXCLUDED.missed_polls, good_polls = EXCLUDED.good_polls,
        state_changed_at = EXCLUDED.state_changed_at, last_seen_at = GREATEST(l.last_seen_at, EXCLUDED.last_seen_at),
        last_poll_id = COALESCE(EXCLUDED.last_poll_id, l.last_poll_id),
        ap_interface_id = EXCLUDED.ap_interface_id, cpe_device_id = EXCLUDED.cpe_device_id, cpe_interface_id = EXCLUDED.cpe_interface_id,
        signal_dbm = EXCLUDED.signal_dbm, snr_db = EXCLUDED.snr_db, noise_dbm = EXCLUDED.noise_dbm, tx_rate = EXCLUDED.tx_rate,
        rx_rate = EXCLUDED.rx_rate, ccq = EXCLUDED.ccq, uptime_s = EXCLUDED.uptime_s
      WHERE l.id = EXCLUDED.id
      RETURNING l.id, l.tenant_id, l.ap_device_id, l.ap_interface_name, l.cpe_device_id, l.cpe_mac
    ),
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
