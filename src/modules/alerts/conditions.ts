/**
 * Threshold rules as pure functions: how a value classifies against a rule (breaching, clear, or
 * hovering inside the hysteresis band), and how a run of samples moves one (rule, device)'s
 * evaluation state, raising and clearing alerts. The store applies the outcome in SQL.
 */

export type Condition = 'above' | 'below' | 'outside' | 'inside';

export interface ThresholdRule {
  condition: Condition;
  /** above / below. */
  threshold: number | null;
  /** above: clears at or below it (≤ threshold); below: at or above it (≥ threshold). Defaults to threshold. */
  clearThreshold: number | null;
  /** outside / inside. */
  rangeLow: number | null;
  rangeHigh: number | null;
  /** outside: clears inside [low + h, high - h]; inside: clears outside [low - h, high + h]. Default 0. */
  hysteresis: number | null;
  /** Raise only after breaching continuously this long (by sample time)... */
  forSeconds: number | null;
  /** ...or for this many consecutive samples. Neither: the first breaching sample raises. */
  forSamples: number | null;
}

/**
 * - `breach`: the condition holds (above: v > threshold; below: v < threshold; outside: v < low or
 *   v > high; inside: low ≤ v ≤ high).
 * - `clear`: past the hysteresis on the healthy side; an open alert clears.
 * - `hover`: neither; an open alert stays open, a pending breach is interrupted.
 */
export type Classification = 'breach' | 'clear' | 'hover';

export function classify(rule: ThresholdRule, value: number): Classification {
  const h = rule.hysteresis ?? 0;
  switch (rule.condition) {
    case 'above': {
      const t = rule.threshold!;
      return value > t ? 'breach' : value <= (rule.clearThreshold ?? t) ? 'clear' : 'hover';
    }
    case 'below': {
      const t = rule.threshold!;
      return value < t ? 'breach' : value >= (rule.clearThreshold ?? t) ? 'clear' : 'hover';
    }
    case 'outside': {
      const [low, high] = [rule.rangeLow!, rule.rangeHigh!];
      if (value < low || value > high) return 'breach';
      return value >= low + h && value <= high - h ? 'clear' : 'hover';
    }
    case 'inside': {
      const [low, high] = [rule.rangeLow!, rule.rangeHigh!];
      if (value >= low && value <= high) return 'breach';
      return value < low - h || value > high + h ? 'clear' : 'hover';
    }
  }
}

/** How bad a value is under the rule (larger is worse): the alert's peak is the worst value seen. */
export function severityOf(rule: ThresholdRule, value: number): number {
  switch (rule.condition) {
    case 'above':
      return value;
    case 'below':
      return -value;
    case 'outside':
      return Math.max(rule.rangeLow! - value, value - rule.rangeHigh!);
    case 'inside':
      return Math.min(value - rule.rangeLow!, rule.rangeHigh! - value);
  }
}

/** The evaluation state of one (rule, device) (a row of `alert_rule_states`), plus its open alert. */
export interface EvaluationState {
  breachSince: Date | null;
  breachSamples: number;
  lastSampleAt: Date | null;
  open: OpenAlert | null;
}

export interface OpenAlert {
  alertId: string;
  peakValue: number | null;
}

export interface TimedValue {
  value: number;
  time: Date;
}

/** An alert raised by this evaluation (possibly cleared again within it). */
export interface RaisedAlert {
  alertId: string;
  value: number;
  raisedAt: Date;
  peakValue: number;
  peakAt: Date;
  cleared: TimedValue | null;
}

/** What happened to the alert that was open before this evaluation. */
export interface OpenAlertChange {
  alertId: string;
  /** A new peak, when one was reached. */
  peak: TimedValue | null;
  cleared: TimedValue | null;
}

export interface Evaluation {
  /** The state after the samples, with the alert open at the end (if any). */
  state: EvaluationState;
  raised: RaisedAlert[];
  changed: OpenAlertChange | null;
}

/**
 * Runs `samples` (any order) through one (rule, device)'s state. Samples not newer than the last
 * one evaluated are ignored: a redelivery or a late sample never re-opens or re-clears anything.
 * `newAlertId` names alerts raised here (the caller inserts them with those ids).
 */
export function evaluateSamples(rule: ThresholdRule, before: EvaluationState, samples: readonly TimedValue[], newAlertId: () => string): Evaluation {
  let { breachSince, breachSamples, lastSampleAt } = before;
  let open: { alertId: string; peakValue: number | null; fresh: RaisedAlert | null } | null = before.open ? { ...before.open, fresh: null } : null;
  const raised: RaisedAlert[] = [];
  let changed: OpenAlertChange | null = null;
  const changeOfExisting = (alertId: string) => (changed ??= { alertId, peak: null, cleared: null });
  const ordered = [...samples].sort((a, b) => a.time.getTime() - b.time.getTime());
  for (const sample of ordered) {
    if (lastSampleAt && sample.time <= lastSampleAt) continue;
    lastSampleAt = sample.time;
    const kind = classify(rule, sample.value);
    if (open) {
      if (kind === 'clear') {
        if (open.fresh) open.fresh.cleared = sample;
        else changeOfExisting(open.alertId).cleared = sample;
        open = null;
        breachSince = null;
        breachSamples = 0;
      } else if (open.peakValue === null || severityOf(rule, sample.value) > severityOf(rule, open.peakValue)) {
        open.peakValue = sample.value;
        if (open.fresh) Object.assign(open.fresh, { peakValue: sample.value, peakAt: sample.time });
        else changeOfExisting(open.alertId).peak = sample;
      }
      continue;
    }
    if (kind !== 'breach') {
      // A pending breach must be continuous: hovering or clearing starts the count again.
      breachSince = null;
      breachSamples = 0;
      continue;
    }
    breachSince ??= sample.time;
    breachSamples += 1;
    if (!durationMet(rule, breachSince, breachSamples, sample.time)) continue;
    const alert: RaisedAlert = { alertId: newAlertId(), value: sample.value, raisedAt: sample.time, peakValue: sample.value, peakAt: sample.time, cleared: null };
    raised.push(alert);
    open = { alertId: alert.alertId, peakValue: sample.value, fresh: alert };
  }
  const openAtEnd = open ? { alertId: open.alertId, peakValue: open.peakValue } : null;
  return { state: { breachSince, breachSamples, lastSampleAt, open: openAtEnd }, raised, changed };
}

function durationMet(rule: ThresholdRule, since: Date, samples: number, now: Date): boolean {
  if (rule.forSamples !== null) return samples >= rule.forSamples;
  if (rule.forSeconds !== null) return now.getTime() - since.getTime() >= rule.forSeconds * 1000;
  return true;
}
