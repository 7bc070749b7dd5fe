/**
 * SQL of one AP radio's poll, each a single statement whatever the number of stations: advance
 * the radio's poll cursor, read (and lock) its links with every listed MAC resolved, and keep the
 * unresolved stations. The link writes themselves are in link-writes.ts.
 */
import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import { storedLinkColumns, type StationMetrics, type StoredLinkColumns } from './link-writes.js';
import type { LinkState } from './state-machine.js';
import { SETTINGS_COLUMNS, type SettingsColumns } from './thresholds.js';

export interface PollHeader {
  interfaceName: string;
  pollId: number;
  /** The AP's timestamp of the poll (ordering only). */
  polledAt: Date;
  /** The server's time (the clock of link timing). */
  receivedAt: Date;
  stations: number;
}

export interface PollCursor {
  /** False when the poll's pollId or ts is not newer than the last applied one. */
  applied: boolean;
  /** The AP's registered interface of the poll's name. */
  apInterfaceId: string | null;
  apInMaintenance: boolean;
  settings: SettingsColumns | null;
}

/** `device` is in a maintenance window at `at` (for a device ID column or value). */
export function inMaintenanceSql(tenantId: Prisma.Sql, deviceId: Prisma.Sql, at: Date): Prisma.Sql {
  return Prisma.sql`EXISTS (SELECT 1 FROM device_maintenance_windows w
    WHERE w.tenant_id = ${tenantId} AND w.device_id = ${deviceId}
      AND w.ends_at > ${at}::timestamptz AND w.starts_at <= ${at}::timestamptz)`;
}

/**
 * Moves the radio's cursor to this poll when both its pollId and ts are newer, and reads what the
 * poll needs besides its links. The cursor row stays locked until commit, so two polls of one
 * radio (another instance, a redelivery) never apply concurrently.
 */
export async function advancePollCursor(session: TenantSession, ap: DeviceKey, poll: PollHeader): Promise<PollCursor> {
  const [row] = await session.db.$queryRaw<Array<{ applied: boolean; ap_interface_id: string | null; ap_in_maintenance: boolean } & SettingsColumns & { has_settings: boolean }>>`
    WITH advanced AS (
      INSERT INTO wireless_ap_polls AS p (tenant_id, ap_device_id, interface_name, last_poll_id, last_polled_at, last_received_at, stations)
      VALUES (${ap.tenantId}, ${ap.deviceId}, ${poll.interfaceName}, ${String(poll.pollId)}::bigint, ${poll.polledAt}::timestamptz,
              ${poll.receivedAt}::timestamptz, ${poll.stations}::int)
      ON CONFLICT (tenant_id, ap_device_id, interface_name) DO UPDATE SET
        last_poll_id = EXCLUDED.last_poll_id, last_polled_at = EXCLUDED.last_polled_at,
        last_received_at = GREATEST(p.last_received_at, EXCLUDED.last_received_at), stations = EXCLUDED.stations, polls = p.polls + 1
      WHERE p.last_poll_id < EXCLUDED.last_poll_id AND p.last_polled_at < EXCLUDED.last_polled_at
      RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM advanced) AS applied,
      (SELECT i.id FROM device_interfaces i
        WHERE i.tenant_id = ${ap.tenantId} AND i.device_id = ${ap.deviceId} AND i.name = ${poll.interfaceName}) AS ap_interface_id,
      ${inMaintenanceSql(Prisma.sql`${ap.tenantId}`, Prisma.sql`${ap.deviceId}`, poll.receivedAt)} AS ap_in_maintenance,
      s.tenant_id IS NOT NULL AS has_settings, ${SETTINGS_COLUMNS}
    FROM (SELECT 1) one LEFT JOIN wireless_link_settings s ON s.tenant_id = ${ap.tenantId}`;
  return {
    applied: row?.applied ?? false,
    apInterfaceId: row?.ap_interface_id ?? null,
    apInMaintenance: row?.ap_in_maintenance ?? false,
    settings: row?.has_settings ? row : null,
  };
}

/**
 * A listed MAC, or a link of the radio the poll did not list, with what it resolves to. The link's
 * stored columns are null when there is no link.
 */
export interface PollLinkRow extends StoredLinkColumns {
  mac: string;
  listed: boolean;
  /** The active device with an interface of this MAC in the AP's tenant (never another tenant's). */
  resolved_device_id: string | null;
  resolved_interface_id: string | null;
  link_id: string | null;
  state: LinkState | null;
  missed_polls: number | null;
  good_polls: number | null;
  state_changed_at: Date | null;
  last_seen_at: Date | null;
  cpe_in_maintenance: boolean;
}

/**
 * Every link of the radio (locked, in id order, so concurrent writers never deadlock) joined with
 * the listed MACs, each resolved through device_interfaces of the same tenant.
 */
export async function readPollLinks(session: TenantSession, ap: DeviceKey, interfaceName: string, macs: string[], at: Date): Promise<PollLinkRow[]> {
  return session.db.$queryRaw<PollLinkRow[]>`
    WITH listed AS (SELECT DISTINCT mac FROM unnest(${macs}::text[]) AS s(mac)),
    resolved AS (
      SELECT i.mac_address AS mac, i.id AS interface_id, i.device_id
      FROM device_interfaces i
      JOIN device_registry d ON d.tenant_id = i.tenant_id AND d.device_id = i.device_id AND d.decommissioned_at IS NULL
      WHERE i.tenant_id = ${ap.tenantId} AND i.mac_address = ANY(${macs}::text[])
    ),
    links AS (
      SELECT l.id, l.cpe_mac, l.state, l.missed_polls, l.good_polls, l.state_changed_at, l.last_seen_at, ${storedLinkColumns('l')}
      FROM wireless_links l
      WHERE l.tenant_id = ${ap.tenantId} AND l.ap_device_id = ${ap.deviceId} AND l.ap_interface_name = ${interfaceName}
      ORDER BY l.id
      FOR UPDATE
    )
    SELECT COALESCE(s.mac, k.cpe_mac) AS mac, s.mac IS NOT NULL AS listed,
           r.device_id AS resolved_device_id, r.interface_id AS resolved_interface_id,
           k.id AS link_id, k.state, k.missed_polls, k.good_polls, k.state_changed_at, k.last_seen_at, ${storedLinkColumns('k')},
           ${inMaintenanceSql(Prisma.sql`${ap.tenantId}`, Prisma.sql`COALESCE(r.device_id, k.cpe_device_id)`, at)} AS cpe_in_maintenance
    FROM listed s
    FULL JOIN links k ON k.cpe_mac = s.mac
    LEFT JOIN resolved r ON r.mac = s.mac`;
}

export interface UnresolvedStation {
  mac: string;
  metrics: StationMetrics;
}

/**
 * Keeps the stations no interface resolves as the radio's registrations (one row per MAC, the
 * latest sighting), and drops the registrations of `linkedMacs` (MACs that are links now).
 */
export async function writeRegistrations(
  session: TenantSession,
  ap: DeviceKey,
  poll: { interfaceName: string; pollId: number; receivedAt: Date },
  unresolved: readonly UnresolvedStation[],
  linkedMacs: readonly string[],
): Promise<void> {
  const col = <T>(pick: (station: UnresolvedStation) => T) => unresolved.map(pick);
  await session.db.$queryRaw`
    WITH upserted AS (
      INSERT INTO wireless_registrations AS r (tenant_id, ap_device_id, interface_name, station_mac, signal_dbm, snr_db, noise_dbm,
        tx_rate, rx_rate, ccq, uptime_s, last_poll_id, first_seen_at, last_seen_at)
      SELECT ${ap.tenantId}, ${ap.deviceId}, ${poll.interfaceName}, u.mac, u.signal_dbm, u.snr_db, u.noise_dbm, u.tx_rate, u.rx_rate, u.ccq,
             u.uptime_s, ${String(poll.pollId)}::bigint, ${poll.receivedAt}::timestamptz, ${poll.receivedAt}::timestamptz
      FROM unnest(${col((s) => s.mac)}::text[], ${col((s) => s.metrics.signalDbm)}::float8[], ${col((s) => s.metrics.snrDb)}::float8[],
                  ${col((s) => s.metrics.noiseDbm)}::float8[], ${col((s) => s.metrics.txRateMbps)}::float8[],
                  ${col((s) => s.metrics.rxRateMbps)}::float8[], ${col((s) => s.metrics.ccq)}::float8[],
                  ${col((s) => (s.metrics.uptimeS === null ? null : String(s.metrics.uptimeS)))}::bigint[])
           AS u(mac, signal_dbm, snr_db, noise_dbm, tx_rate, rx_rate, ccq, uptime_s)
      ORDER BY u.mac
      ON CONFLICT (tenant_id, ap_device_id, interface_name, station_mac) DO UPDATE SET
        signal_dbm = EXCLUDED.signal_dbm, snr_db = EXCLUDED.snr_db, noise_dbm = EXCLUDED.noise_dbm, tx_rate = EXCLUDED.tx_rate,
        rx_rate = EXCLUDED.rx_rate, ccq = EXCLUDED.ccq, uptime_s = EXCLUDED.uptime_s, last_poll_id = EXCLUDED.last_poll_id,
        last_seen_at = GREATEST(r.last_seen_at, EXCLUDED.last_seen_at), sightings = r.sightings + 1
      RETURNING 1
    ),
    resolved AS (
      DELETE FROM wireless_registrations r
      WHERE r.tenant_id = ${ap.tenantId} AND r.ap_device_id = ${ap.deviceId} AND r.interface_name = ${poll.interfaceName}
        AND r.station_mac = ANY(${[...linkedMacs]}::text[])
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM upserted)::int AS upserted, (SELECT count(*) FROM resolved)::int AS resolved`;
}
