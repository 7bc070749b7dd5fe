/**
 * The wireless link state machine, as a pure function: what one observation of a link (a poll
 * that lists it, a poll that does not, a worker tick) does to its state and counters. Callers
 * read the link's row under a lock, call {@link stepLink}, and write the result and its
 * transitions set-based; nothing here does I/O, so every rule is covered by table tests.
 *
 *   DISCOVERED  first sighting (or seen again after DOWN / STALE)
 *   ACTIVE      K consecutive sightings with signal and SNR at or above the recover thresholds
 *   DEGRADED    a sighting below a degrade threshold
 *   DOWN        M consecutive polls of the AP radio without the station
 *   STALE       not seen for a long age, or the AP itself OFFLINE
 *
 * Hysteresis: a link leaves ACTIVE only below the (lower) degrade thresholds and comes back only
 * at the (higher) recover thresholds, K sightings in a row; between the two nothing changes. On
 * top of that, ACTIVE ↔ DEGRADED waits for a minimum dwell in the current state, so a signal
 * hovering at a threshold cannot flap.
 */

export const LINK_STATES = ['discovered', 'active', 'degraded', 'down', 'stale'] as const;
export type LinkState = (typeof LINK_STATES)[number];

/** Why a link changed state (stored in wireless_link_events.reason). */
export const LINK_TRANSITION_REASONS = [
  'DISCOVERED',
  'CONFIRMED',
  'SIGNAL_DEGRADED',
  'SIGNAL_RECOVERED',
  'SEEN_AGAIN',
  'MISSED_POLLS',
  'AP_SILENT',
  'NOT_SEEN',
  'AP_OFFLINE',
] as const;
export type LinkTransitionReason = (typeof LINK_TRANSITION_REASONS)[number];

export interface LinkThresholds {
  /** Below this signal (dBm) a sighting is poor: ACTIVE → DEGRADED. */
  signalDegradeDbm: number;
  /** At or above this signal (and the SNR one) a sighting is good: counts towards ACTIVE. */
  signalRecoverDbm: number;
  snrDegradeDb: number;
  snrRecoverDb: number;
  /** K: consecutive good sightings that make a link ACTIVE. */
  confirmPolls: number;
  /** M: consecutive polls without the station that make a link DOWN. */
  downAfterMissedPolls: number;
  /** Least time in ACTIVE or DEGRADED before a signal change may move the link between them. */
  minDwellSeconds: number;
  /** Not seen for this long: STALE. */
  staleAfterSeconds: number;
  /** The AP radio has not reported for this long: its links are DOWN. */
  apSilentAfterSeconds: number;
}

/** What the machine tracks of a link between observations. */
export interface LinkStatus {
  state: LinkState;
  missedPolls: number;
  /** Consecutive good sightings (reset by any other sighting or a missed poll). */
  goodPolls: number;
  stateSince: Date;
  lastSeenAt: Date;
}

/** The quality figures a sighting is judged on; absent ones are not judged. */
export interface SignalSample {
  signalDbm?: number | null;
  snrDb?: number | null;
}

export type LinkObservation =
  /** A poll of the AP radio listed the station. */
  | { kind: 'sighting'; at: Date; sample: SignalSample }
  /** A poll of the AP radio did not list it. */
  | { kind: 'missed'; at: Date }
  /** The worker (or the AP-offline reaction) looks at the link at `at`. */
  | { kind: 'tick'; at: Date; apOffline: boolean; apSilent: boolean };

export interface LinkTransition {
  from: LinkState | null;
  to: LinkState;
  reason: LinkTransitionReason;
  at: Date;
  /** DEGRADED or DOWN while the AP or the CPE is in maintenance: stored, not announced. */
  suppressed: boolean;
}

export interface LinkStep {
  status: LinkStatus;
  /** In order; usually none or one, two when a first sighting already decides (K = 1, or poor). */
  transitions: LinkTransition[];
}

export interface StepContext {
  thresholds: LinkThresholds;
  /** The AP or the CPE is in a maintenance window at the observation's time. */
  inMaintenance: boolean;
}

export type SignalQuality = 'good' | 'marginal' | 'poor';

/**
 * `poor` when a present figure is below its degrade threshold, `good` when every present figure
 * is at or above its recover threshold, `marginal` in between (the hysteresis band). A sighting
 * without figures is `good`: being listed is the only evidence the AP gives.
 */
export function signalQuality(sample: SignalSample, thresholds: LinkThresholds): SignalQuality {
  const figures: Array<[number | null | undefined, number, number]> = [
    [sample.signalDbm, thresholds.signalDegradeDbm, thresholds.signalRecoverDbm],
    [sample.snrDb, thresholds.snrDegradeDb, thresholds.snrRecoverDb],
  ];
  let quality: SignalQuality = 'good';
  for (const [value, degrade, recover] of figures) {
    if (value === null || value === undefined) continue;
    if (value < degrade) return 'poor';
    if (value < recover) quality = 'marginal';
  }
  return quality;
}

const SUPPRESSIBLE: ReadonlySet<LinkState> = new Set(['degraded', 'down']);

function seconds(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 1000;
}

/**
 * Applies one observation. `current` is null only for a station never seen on this AP radio,
 * and only a sighting can create a link. Pure: the same inputs always give the same step.
 */
export function stepLink(current: LinkStatus | null, observation: LinkObservation, context: StepContext): LinkStep {
  const { thresholds } = context;
  const transitions: LinkTransition[] = [];
  const move = (status: LinkStatus, to: LinkState, reason: LinkTransitionReason): LinkStatus => {
    if (status.state === to) return status;
    transitions.push({ from: status.state, to, reason, at: observation.at, suppressed: context.inMaintenance && SUPPRESSIBLE.has(to) });
    return { ...status, state: to, stateSince: observation.at };
  };

  let status: LinkStatus;
  if (current === null) {
    if (observation.kind !== 'sighting') throw new TypeError('only a sighting can discover a link');
    status = { state: 'discovered', missedPolls: 0, goodPolls: 0, stateSince: observation.at, lastSeenAt: observation.at };
    transitions.push({ from: null, to: 'discovered', reason: 'DISCOVERED', at: observation.at, suppressed: false });
  } else {
    status = current;
  }

  switch (observation.kind) {
    case 'sighting': {
      const quality = signalQuality(observation.sample, thresholds);
      status = {
        ...status,
        missedPolls: 0,
        goodPolls: quality === 'good' ? status.goodPolls + 1 : 0,
        lastSeenAt: observation.at > status.lastSeenAt ? observation.at : status.lastSeenAt,
      };
      const dwelt = seconds(status.stateSince, observation.at) >= thresholds.minDwellSeconds;
      const confirmed = status.goodPolls >= thresholds.confirmPolls;
      if (status.state === 'active') {
        if (quality === 'poor' && dwelt) status = move(status, 'degraded', 'SIGNAL_DEGRADED');
      } else if (status.state === 'degraded') {
        if (confirmed && dwelt) status = move(status, 'active', 'SIGNAL_RECOVERED');
      } else if (quality === 'poor') {
        // DISCOVERED, DOWN or STALE, seen with a poor signal: there is a link, and it is degraded.
        status = move(status, 'degraded', 'SIGNAL_DEGRADED');
      } else if (confirmed) {
        status = move(status, 'active', 'CONFIRMED');
      } else {
        // Back after DOWN or STALE, not yet confirmed good.
        status = move(status, 'discovered', 'SEEN_AGAIN');
      }
      break;
    }
    case 'missed': {
      status = { ...status, missedPolls: status.missedPolls + 1, goodPolls: 0 };
      if (status.missedPolls >= thresholds.downAfterMissedPolls && status.state !== 'down' && status.state !== 'stale') {
        status = move(status, 'down', 'MISSED_POLLS');
      }
      break;
    }
    case 'tick': {
      if (status.state === 'stale') break;
      const before = status.state;
      if (observation.apOffline) status = move(status, 'stale', 'AP_OFFLINE');
      else if (seconds(status.lastSeenAt, observation.at) >= thresholds.staleAfterSeconds) status = move(status, 'stale', 'NOT_SEEN');
      else if (observation.apSilent && status.state !== 'down') status = move(status, 'down', 'AP_SILENT');
      // Gone is gone: coming back starts a new confirmation.
      if (status.state !== before) status = { ...status, goodPolls: 0 };
      break;
    }
  }
  return { status, transitions };
}
