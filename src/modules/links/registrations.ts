/**
 * One poll of one AP radio: discovery, refresh and the state machine for every link of the radio,
 * unresolved stations kept. A constant number of statements however many stations it lists:
 * presence touch, cursor, links read, links + events write, and the registrations write when
 * there are unresolved stations or new links.
 */
import type { TenantSession } from '../../db/tenant-session.js';
import type { DeviceKey } from '../../kernel/device-key.js';
import type { AppServices } from '../../services.js';
import { touchDevice } from '../connectivity/touch.js';
import { storedMetrics, storedRefs, writeLinkChanges, type LinkChange, type StationMetrics } from './link-writes.js';
import type { WirelessRegistrationsPayload, WirelessStation } from './payloads.js';
import { advancePollCursor, readPollLinks, writeRegistrations, type PollLinkRow, type UnresolvedStation } from './poll-store.js';
import { signalQuality, stepLink, type LinkObservation, type LinkStatus, type LinkThresholds, type LinkTransition } from './state-machine.js';
import { effectiveThresholds } from './thresholds.js';

export type PollOutcome = { status: 'applied' | 'duplicate' } | { status: 'unknownDevice' };

function metricsOf(station: WirelessStation): StationMetrics {
  return {
    signalDbm: station.signalDbm ?? null,
    snrDb: station.snrDb ?? null,
    noiseDbm: station.noiseDbm ?? null,
    txRateMbps: station.txRateMbps ?? null,
    rxRateMbps: station.rxRateMbps ?? null,
    ccq: station.ccq ?? null,
    uptimeS: station.uptimeS ?? null,
  };
}

function statusOf(row: PollLinkRow): LinkStatus | null {
  if (row.link_id === null || row.state === null) return null;
  return {
    state: row.state,
    missedPolls: row.missed_polls ?? 0,
    goodPolls: row.good_polls ?? 0,
    stateSince: row.state_changed_at!,
    lastSeenAt: row.last_seen_at!,
  };
}

/** What an event stores besides its reason: the figures, the counters and the rule that applied. */
function pollDetails(
  thresholds: LinkThresholds,
  poll: WirelessRegistrationsPayload,
  status: LinkStatus,
  metrics: StationMetrics | undefined,
): (transition: LinkTransition) => Record<string, unknown> {
  return (transition) => ({
    pollId: poll.pollId,
    polledAt: poll.ts.toISOString(),
    missedPolls: status.missedPolls,
    goodPolls: status.goodPolls,
    ...(metrics && { ...metrics, quality: signalQuality(metrics, thresholds) }),
    ...(transition.reason === 'MISSED_POLLS' && { downAfterMissedPolls: thresholds.downAfterMissedPolls }),
    ...((transition.reason === 'CONFIRMED' || transition.reason === 'SIGNAL_RECOVERED') && { confirmPolls: thresholds.confirmPolls }),
    ...(['SIGNAL_DEGRADED', 'SIGNAL_RECOVERED', 'CONFIRMED'].includes(transition.reason) && {
      signalDegradeDbm: thresholds.signalDegradeDbm,
      signalRecoverDbm: thresholds.signalRecoverDbm,
      snrDegradeDb: thresholds.snrDegradeDb,
      snrRecoverDb: thresholds.snrRecoverDb,
    }),
  });
}

/**
 * Applies one poll of `ap`'s radio `poll.interface`: a repeated or older poll (pollId or ts not
 * newer) changes nothing; otherwise every listed station whose MAC resolves to another device of
 * the same tenant creates or refreshes its link, every link of the radio the poll does not list
 * counts a missed poll, and stations nothing resolves are kept as unresolved registrations.
 */
export async function applyRegistrationPoll(
  session: TenantSession,
  services: Pick<AppServices, 'config' | 'metrics'>,
  ap: DeviceKey,
  poll: WirelessRegistrationsPayload,
  receivedAt: Date,
): Promise<PollOutcome> {
  const metrics = services.metrics.links;
  // Any message is a sign of life of the AP; and an unknown or decommissioned AP stops here.
  const presence = await touchDevice(session, { key: ap, at: receivedAt });
  if (!presence.found) return { status: 'unknownDevice' };

  // The same MAC listed twice in one poll: the last entry wins.
  const stations = [...new Map(poll.stations.map((station) => [station.mac, station])).values()];
  const cursor = await advancePollCursor(session, ap, {
    interfaceName: poll.interface,
    pollId: poll.pollId,
    polledAt: poll.ts,
    receivedAt,
    stations: stations.length,
  });
  if (!cursor.applied) {
    session.afterCommit(async () => void metrics.polls.inc({ outcome: 'duplicate' }));
    return { status: 'duplicate' };
  }
  const thresholds = effectiveThresholds(cursor.settings, services.config.links.defaults);
  const byMac = new Map(stations.map((station) => [station.mac, station]));
  const rows = await readPollLinks(session, ap, poll.interface, [...byMac.keys()], receivedAt);

  const changes: LinkChange[] = [];
  const unresolved: UnresolvedStation[] = [];
  const linkedMacs: string[] = [];
  /** MACs that became links in this poll: an unresolved registration of theirs may be left over. */
  const newLinkMacs: string[] = [];
  let ignored = 0;
  for (const row of rows) {
    const current = statusOf(row);
    const station = row.listed ? byMac.get(row.mac) : undefined;
    // The AP's own interface is a loop, not a station.
    const resolvesToAp = row.resolved_device_id === ap.deviceId;
    if (station && current === null) {
      if (resolvesToAp) {
        ignored += 1;
        continue;
      }
      if (row.resolved_device_id === null) {
        unresolved.push({ mac: row.mac, metrics: metricsOf(station) });
        continue;
      }
    }
    const stationMetrics = station ? metricsOf(station) : undefined;
    const observation: LinkObservation = station
      ? { kind: 'sighting', at: receivedAt, sample: stationMetrics! }
      : { kind: 'missed', at: receivedAt };
    const step = stepLink(current, observation, { thresholds, inMaintenance: cursor.apInMaintenance || row.cpe_in_maintenance });
    if (station) linkedMacs.push(row.mac);
    if (station && current === null) newLinkMacs.push(row.mac);
    changes.push({
      key: { tenantId: ap.tenantId, apDeviceId: ap.deviceId, apInterfaceName: poll.interface, cpeMac: row.mac },
      linkId: row.link_id,
      status: step.status,
      transitions: step.transitions,
      pollId: poll.pollId,
      // A missed poll keeps the link's last figures and references.
      metrics: stationMetrics ?? storedMetrics(row),
      // Refreshed on every sighting: interfaces come and go between polls.
      refs: station
        ? {
            apInterfaceId: cursor.apInterfaceId,
            cpeDeviceId: resolvesToAp ? null : row.resolved_device_id,
            cpeInterfaceId: resolvesToAp ? null : row.resolved_interface_id,
          }
        : storedRefs(row),
      details: pollDetails(thresholds, poll, step.status, stationMetrics),
    });
  }

  await writeLinkChanges(session, changes, metrics);
  // A station that resolves has no registration, except one kept by a poll that raced the
  // interface's registration: only MACs new as links can have one.
  if (unresolved.length > 0 || newLinkMacs.length > 0) {
    await writeRegistrations(session, ap, { interfaceName: poll.interface, pollId: poll.pollId, receivedAt }, unresolved, newLinkMacs);
  }
  // Counted once committed: a batch that rolls back and is retried must not count twice.
  session.afterCommit(async () => {
    metrics.polls.inc({ outcome: 'applied' });
    metrics.stations.inc({ resolution: 'linked' }, linkedMacs.length);
    metrics.stations.inc({ resolution: 'unresolved' }, unresolved.length);
    metrics.stations.inc({ resolution: 'ignored' }, ignored);
  });
  return { status: 'applied' };
}
