/**
 * A MAC just became a device's (an interface was registered or re-addressed): what APs of the same
 * tenant reported under it becomes that device's. Unresolved registrations turn into links
 * (discovered now, last seen when the AP last listed the station), and links that already exist
 * for the MAC (their CPE was unknown or deleted) point at the device again.
 */
import type { TenantSession } from '../../db/tenant-session.js';
import { writeLinkChanges, type LinkChange } from './link-writes.js';
import { inMaintenanceSql } from './poll-store.js';
import { stepLink, type LinkThresholds } from './state-machine.js';
import { Prisma } from '../../generated/prisma/client.js';
import { effectiveThresholds, SETTINGS_COLUMNS, type SettingsColumns } from './thresholds.js';

type RegistrationRow = SettingsColumns & {
  ap_device_id: string;
  interface_name: string;
  ap_interface_id: string | null;
  signal_dbm: number | null;
  snr_db: number | null;
  noise_dbm: number | null;
  tx_rate: number | null;
  rx_rate: number | null;
  ccq: number | null;
  uptime_s: bigint | null;
  last_poll_id: bigint | null;
  first_seen_at: Date;
  last_seen_at: Date;
  sightings: bigint;
  in_maintenance: boolean;
};

export interface ResolvedMac {
  tenantId: string;
  deviceId: string;
  interfaceId: string;
  mac: string;
}

/** Resolves `mac` to the device's interface; returns the IDs of the links created or re-attached. */
export async function resolveStationMac(session: TenantSession, target: ResolvedMac, defaults: LinkThresholds): Promise<string[]> {
  const now = new Date();
  // The device's own AP radios never list it as a station of a link (that would be a loop).
  const reattached = await session.db.$queryRaw<Array<{ id: string }>>`
    UPDATE wireless_links SET cpe_device_id = ${target.deviceId}, cpe_interface_id = ${target.interfaceId}::uuid
    WHERE tenant_id = ${target.tenantId} AND cpe_mac = ${target.mac} AND ap_device_id <> ${target.deviceId}
    RETURNING id`;
  const registrations = await session.db.$queryRaw<RegistrationRow[]>`
    WITH taken AS (
      DELETE FROM wireless_registrations r
      WHERE r.tenant_id = ${target.tenantId} AND r.station_mac = ${target.mac} AND r.ap_device_id <> ${target.deviceId}
      RETURNING r.*
    )
    SELECT t.ap_device_id, t.interface_name, t.signal_dbm, t.snr_db, t.noise_dbm, t.tx_rate, t.rx_rate, t.ccq, t.uptime_s,
           t.last_poll_id, t.first_seen_at, t.last_seen_at, t.sightings,
           (SELECT i.id FROM device_interfaces i
             WHERE i.tenant_id = t.tenant_id AND i.device_id = t.ap_device_id AND i.name = t.interface_name) AS ap_interface_id,
           (${inMaintenanceSql(Prisma.sql`t.tenant_id`, Prisma.sql`t.ap_device_id`, now)}
             OR ${inMaintenanceSql(Prisma.sql`t.tenant_id`, Prisma.sql`${target.deviceId}`, now)}) AS in_maintenance,
           ${SETTINGS_COLUMNS}
    FROM taken t LEFT JOIN wireless_link_settings s ON s.tenant_id = t.tenant_id
    ORDER BY t.ap_device_id, t.interface_name`;
  const changes = registrations.map((row): LinkChange => {
    const thresholds = effectiveThresholds(row, defaults);
    const metrics = {
      signalDbm: row.signal_dbm,
      snrDb: row.snr_db,
      noiseDbm: row.noise_dbm,
      txRateMbps: row.tx_rate,
      rxRateMbps: row.rx_rate,
      ccq: row.ccq,
      uptimeS: row.uptime_s === null ? null : Number(row.uptime_s),
    };
    // Its last sighting is the evidence; the link exists from now, last seen when the AP last listed it.
    const step = stepLink(null, { kind: 'sighting', at: now, sample: metrics }, { thresholds, inMaintenance: row.in_maintenance });
    return {
      key: { tenantId: target.tenantId, apDeviceId: row.ap_device_id, apInterfaceName: row.interface_name, cpeMac: target.mac },
      linkId: null,
      status: { ...step.status, lastSeenAt: row.last_seen_at },
      transitions: step.transitions,
      pollId: row.last_poll_id === null ? null : Number(row.last_poll_id),
      metrics,
      refs: { apInterfaceId: row.ap_interface_id, cpeDeviceId: target.deviceId, cpeInterfaceId: target.interfaceId },
      firstSeenAt: row.first_seen_at,
      details: () => ({
        resolvedFrom: 'UNRESOLVED_REGISTRATION',
        registrationFirstSeenAt: row.first_seen_at.toISOString(),
        registrationLastSeenAt: row.last_seen_at.toISOString(),
        sightings: Number(row.sightings),
        ...metrics,
      }),
    };
  });
  const events = await writeLinkChanges(session, changes);
  return [...new Set([...reattached.map((row) => row.id), ...events.map((event) => event.link_id)])];
}
