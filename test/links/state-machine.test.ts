import { describe, expect, it } from 'vitest';
import {
  signalQuality,
  stepLink,
  type LinkObservation,
  type LinkState,
  type LinkStatus,
  type LinkThresholds,
  type SignalSample,
} from '../../src/modules/links/state-machine.js';

const T: LinkThresholds = {
  signalDegradeDbm: -75,
  signalRecoverDbm: -70,
  snrDegradeDb: 15,
  snrRecoverDb: 20,
  confirmPolls: 3,
  downAfterMissedPolls: 3,
  minDwellSeconds: 60,
  staleAfterSeconds: 3600,
  apSilentAfterSeconds: 600,
};

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const GOOD: SignalSample = { signalDbm: -60, snrDb: 30 };
const MARGINAL: SignalSample = { signalDbm: -72, snrDb: 30 };
const POOR: SignalSample = { signalDbm: -80, snrDb: 30 };

function status(state: LinkState, overrides: Partial<LinkStatus> = {}): LinkStatus {
  return { state, missedPolls: 0, goodPolls: 0, stateSince: at(0), lastSeenAt: at(0), ...overrides };
}

const sighting = (seconds: number, sample: SignalSample): LinkObservation => ({ kind: 'sighting', at: at(seconds), sample });
const missed = (seconds: number): LinkObservation => ({ kind: 'missed', at: at(seconds) });
const tick = (seconds: number, flags: { apOffline?: boolean; apSilent?: boolean } = {}): LinkObservation => ({
  kind: 'tick',
  at: at(seconds),
  apOffline: flags.apOffline ?? false,
  apSilent: flags.apSilent ?? false,
});

/** `from→to:REASON` for each transition, so a table row reads like the log it produces. */
const moves = (current: LinkStatus | null, observation: LinkObservation, thresholds = T, inMaintenance = false) =>
  stepLink(current, observation, { thresholds, inMaintenance }).transitions.map((t) => `${t.from ?? 'none'}→${t.to}:${t.reason}`);

describe('signalQuality', () => {
  it.each<[string, SignalSample, ReturnType<typeof signalQuality>]>([
    ['both above recover', { signalDbm: -70, snrDb: 20 }, 'good'],
    ['signal in the band', { signalDbm: -71, snrDb: 40 }, 'marginal'],
    ['snr in the band', { signalDbm: -50, snrDb: 19.9 }, 'marginal'],
    ['signal at the degrade threshold is not below it', { signalDbm: -75, snrDb: 40 }, 'marginal'],
    ['signal below degrade', { signalDbm: -75.1, snrDb: 40 }, 'poor'],
    ['snr below degrade, signal fine', { signalDbm: -40, snrDb: 14 }, 'poor'],
    ['only signal reported', { signalDbm: -60 }, 'good'],
    ['only snr reported, poor', { snrDb: 3, signalDbm: null }, 'poor'],
    ['nothing reported: being listed is the evidence', {}, 'good'],
  ])('%s → %s', (_label, sample, expected) => {
    expect(signalQuality(sample, T)).toBe(expected);
  });
});

describe('stepLink: transitions', () => {
  it.each<[string, LinkStatus | null, LinkObservation, string[], LinkThresholds?]>([
    // Discovery and confirmation (K = 3).
    ['first sighting', null, sighting(0, GOOD), ['none→discovered:DISCOVERED']],
    ['first sighting, poor signal: discovered and degraded at once', null, sighting(0, POOR), ['none→discovered:DISCOVERED', 'discovered→degraded:SIGNAL_DEGRADED']],
    ['first sighting with K = 1 confirms at once', null, sighting(0, GOOD), ['none→discovered:DISCOVERED', 'discovered→active:CONFIRMED'], { ...T, confirmPolls: 1 }],
    ['second good sighting: not yet', status('discovered', { goodPolls: 1 }), sighting(60, GOOD), []],
    ['third good sighting confirms', status('discovered', { goodPolls: 2 }), sighting(120, GOOD), ['discovered→active:CONFIRMED']],
    ['marginal sighting neither confirms nor degrades', status('discovered', { goodPolls: 2 }), sighting(120, MARGINAL), []],
    ['poor sighting of a discovered link', status('discovered', { goodPolls: 2 }), sighting(120, POOR), ['discovered→degraded:SIGNAL_DEGRADED']],
    // ACTIVE ↔ DEGRADED with separate thresholds and a dwell.
    ['active, poor, dwell passed', status('active'), sighting(60, POOR), ['active→degraded:SIGNAL_DEGRADED']],
    ['active, poor, dwell not passed', status('active'), sighting(59, POOR), []],
    ['active, marginal (below recover, above degrade)', status('active'), sighting(600, MARGINAL), []],
    ['degraded, good but not yet K in a row', status('degraded', { goodPolls: 1 }), sighting(600, GOOD), []],
    ['degraded, K good in a row, dwell passed', status('degraded', { goodPolls: 2 }), sighting(600, GOOD), ['degraded→active:SIGNAL_RECOVERED']],
    ['degraded, K good in a row, dwell not passed', status('degraded', { goodPolls: 2 }), sighting(30, GOOD), []],
    ['degraded, back above degrade but below recover', status('degraded', { goodPolls: 0 }), sighting(600, MARGINAL), []],
    // Missed polls (M = 3).
    ['one missed poll', status('active', { missedPolls: 1 }), missed(60), []],
    ['M-th missed poll', status('active', { missedPolls: 2 }), missed(60), ['active→down:MISSED_POLLS']],
    ['missed polls of a degraded link', status('degraded', { missedPolls: 2 }), missed(60), ['degraded→down:MISSED_POLLS']],
    ['missed polls of a discovered link', status('discovered', { missedPolls: 2 }), missed(60), ['discovered→down:MISSED_POLLS']],
    ['more missed polls of a down link', status('down', { missedPolls: 5 }), missed(60), []],
    ['missed polls leave a stale link stale', status('stale', { missedPolls: 5 }), missed(60), []],
    // Back after DOWN / STALE.
    ['down, seen again, good', status('down', { missedPolls: 4 }), sighting(60, GOOD), ['down→discovered:SEEN_AGAIN']],
    ['down, seen again with K = 1', status('down', { missedPolls: 4 }), sighting(60, GOOD), ['down→active:CONFIRMED'], { ...T, confirmPolls: 1 }],
    ['down, seen again, poor', status('down'), sighting(60, POOR), ['down→degraded:SIGNAL_DEGRADED']],
    ['stale, seen again, marginal', status('stale'), sighting(60, MARGINAL), ['stale→discovered:SEEN_AGAIN']],
    // Ticks: age, AP offline, AP silent.
    ['not seen for the stale age', status('active'), tick(3600), ['active→stale:NOT_SEEN']],
    ['not yet the stale age', status('active'), tick(3599), []],
    ['down and old', status('down'), tick(7200), ['down→stale:NOT_SEEN']],
    ['AP offline', status('active', { lastSeenAt: at(10) }), tick(20, { apOffline: true }), ['active→stale:AP_OFFLINE']],
    ['AP offline wins over AP silent', status('degraded'), tick(20, { apOffline: true, apSilent: true }), ['degraded→stale:AP_OFFLINE']],
    ['AP silent', status('active'), tick(700, { apSilent: true }), ['active→down:AP_SILENT']],
    ['AP silent, already down', status('down'), tick(700, { apSilent: true }), []],
    ['stale stays stale', status('stale'), tick(99_999, { apOffline: true }), []],
  ])('%s', (_label, current, observation, expected, thresholds) => {
    expect(moves(current, observation, thresholds)).toEqual(expected);
  });

  it('refuses to discover a link from anything but a sighting', () => {
    expect(() => stepLink(null, missed(0), { thresholds: T, inMaintenance: false })).toThrow(TypeError);
  });
});

describe('stepLink: counters', () => {
  it.each<[string, LinkStatus, LinkObservation, Partial<LinkStatus>]>([
    ['a sighting resets missed polls and moves lastSeenAt', status('active', { missedPolls: 2 }), sighting(30, GOOD), { missedPolls: 0, goodPolls: 1, lastSeenAt: at(30) }],
    ['a non-good sighting resets the good streak', status('degraded', { goodPolls: 2 }), sighting(30, MARGINAL), { goodPolls: 0 }],
    ['a missed poll resets the good streak', status('discovered', { goodPolls: 2 }), missed(30), { goodPolls: 0, missedPolls: 1, lastSeenAt: at(0) }],
    ['a transition restarts the dwell clock', status('active'), sighting(90, POOR), { state: 'degraded', stateSince: at(90) }],
    ['no transition keeps it', status('active'), sighting(90, MARGINAL), { state: 'active', stateSince: at(0) }],
    ['an older sighting never moves lastSeenAt back', status('active', { lastSeenAt: at(100) }), sighting(50, GOOD), { lastSeenAt: at(100) }],
    ['going STALE resets the good streak', status('active', { goodPolls: 5 }), tick(20, { apOffline: true }), { state: 'stale', goodPolls: 0 }],
    ['a tick that changes nothing keeps it', status('active', { goodPolls: 5 }), tick(20), { state: 'active', goodPolls: 5 }],
  ])('%s', (_label, current, observation, expected) => {
    expect(stepLink(current, observation, { thresholds: T, inMaintenance: false }).status).toMatchObject(expected);
  });
});

describe('stepLink: maintenance', () => {
  it.each<[string, LinkStatus, LinkObservation, boolean]>([
    ['DEGRADED is suppressed', status('active'), sighting(60, POOR), true],
    ['DOWN is suppressed', status('active', { missedPolls: 2 }), missed(60), true],
    ['DOWN from silence is suppressed', status('active'), tick(700, { apSilent: true }), true],
    ['recovery is announced', status('degraded', { goodPolls: 2 }), sighting(60, GOOD), false],
    ['STALE is announced', status('active'), tick(20, { apOffline: true }), false],
  ])('%s', (_label, current, observation, suppressed) => {
    const step = stepLink(current, observation, { thresholds: T, inMaintenance: true });
    expect(step.transitions).toHaveLength(1);
    expect(step.transitions[0]!.suppressed).toBe(suppressed);
    // The state is tracked all the same.
    expect(step.status.state).toBe(step.transitions[0]!.to);
  });
});

describe('stepLink: hysteresis over a sequence', () => {
  /** Runs a series of sightings (one per minute) through the machine; returns the states it logged. */
  function run(samples: SignalSample[], thresholds = T): string[] {
    let current: LinkStatus | null = null;
    const log: string[] = [];
    samples.forEach((sample, index) => {
      const step = stepLink(current, sighting(index * 60, sample), { thresholds, inMaintenance: false });
      current = step.status;
      log.push(...step.transitions.map((t) => t.to));
    });
    return log;
  }

  it('a signal hovering around the degrade threshold degrades once and does not flap', () => {
    const hovering = [-60, -60, -60, -76, -74, -76, -74, -76, -74, -73, -76].map((signalDbm) => ({ signalDbm, snrDb: 30 }));
    expect(run(hovering)).toEqual(['discovered', 'active', 'degraded']);
  });

  it('a signal hovering around the recover threshold recovers only after K good polls in a row', () => {
    const samples = [-80, -69, -71, -69, -69, -71, -69, -69, -69].map((signalDbm) => ({ signalDbm, snrDb: 30 }));
    expect(run(samples)).toEqual(['discovered', 'degraded', 'active']);
  });

  it('without the dwell, a hovering signal still cannot flap: the band holds it', () => {
    const samples = [-60, -60, -60, -76, -74, -76, -74].map((signalDbm) => ({ signalDbm }));
    expect(run(samples, { ...T, minDwellSeconds: 0 })).toEqual(['discovered', 'active', 'degraded']);
  });
});
