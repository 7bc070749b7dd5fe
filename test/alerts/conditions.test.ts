import { describe, expect, it } from 'vitest';
import { classify, evaluateSamples, severityOf, type EvaluationState, type ThresholdRule } from '../../src/modules/alerts/conditions.js';

const rule = (patch: Partial<ThresholdRule>): ThresholdRule => ({
  condition: 'above',
  threshold: null,
  clearThreshold: null,
  rangeLow: null,
  rangeHigh: null,
  hysteresis: null,
  forSeconds: null,
  forSamples: null,
  ...patch,
});

const above80clear75 = rule({ condition: 'above', threshold: 80, clearThreshold: 75 });
const below10 = rule({ condition: 'below', threshold: 10, clearThreshold: 12 });
const outside = rule({ condition: 'outside', rangeLow: 10, rangeHigh: 20, hysteresis: 1 });
const inside = rule({ condition: 'inside', rangeLow: 10, rangeHigh: 20, hysteresis: 1 });

describe('classify', () => {
  it.each<[string, ThresholdRule, number, string]>([
    ['above: over the threshold', above80clear75, 80.1, 'breach'],
    ['above: at the threshold is not a breach', above80clear75, 80, 'hover'],
    ['above: inside the hysteresis band', above80clear75, 76, 'hover'],
    ['above: at the clear threshold', above80clear75, 75, 'clear'],
    ['above: no clear threshold clears at the threshold', rule({ condition: 'above', threshold: 80 }), 80, 'clear'],
    ['below: under', below10, 9.9, 'breach'],
    ['below: band', below10, 11, 'hover'],
    ['below: clear', below10, 12, 'clear'],
    ['outside: below low', outside, 9, 'breach'],
    ['outside: above high', outside, 21, 'breach'],
    ['outside: at the bounds is inside', outside, 10, 'hover'],
    ['outside: in the clear zone', outside, 11, 'clear'],
    ['outside: in the upper band', outside, 19.5, 'hover'],
    ['inside: in the range', inside, 15, 'breach'],
    ['inside: at a bound', inside, 20, 'breach'],
    ['inside: just out, within the hysteresis', inside, 20.5, 'hover'],
    ['inside: out past the hysteresis', inside, 21.5, 'clear'],
    ['inside: below past the hysteresis', inside, 8.9, 'clear'],
  ])('%s', (_label, r, value, expected) => {
    expect(classify(r, value)).toBe(expected);
  });

  it('ranks values so the peak is the worst', () => {
    expect(severityOf(above80clear75, 95)).toBeGreaterThan(severityOf(above80clear75, 85));
    expect(severityOf(below10, 1)).toBeGreaterThan(severityOf(below10, 5));
    expect(severityOf(outside, 2)).toBeGreaterThan(severityOf(outside, 25));
    expect(severityOf(inside, 15)).toBeGreaterThan(severityOf(inside, 11));
  });
});

const idle: EvaluationState = { breachSince: null, breachSamples: 0, lastSampleAt: null, open: null };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);
const series = (...values: number[]) => values.map((value, i) => ({ value, time: at(i) }));
const ids = () => {
  let n = 0;
  return () => `a${(n += 1)}`;
};

describe('evaluateSamples', () => {
  it('raises on the first breach, keeps the peak, stays open in the band, clears past the hysteresis', () => {
    const result = evaluateSamples(above80clear75, idle, series(70, 85, 90, 78, 76, 74), ids());
    expect(result.raised).toEqual([{ alertId: 'a1', value: 85, raisedAt: at(1), peakValue: 90, peakAt: at(2), cleared: { value: 74, time: at(5) } }]);
    expect(result.changed).toBeNull();
    expect(result.state).toEqual({ breachSince: null, breachSamples: 0, lastSampleAt: at(5), open: null });
  });

  it('hovering in the band raises nothing and clears nothing', () => {
    const open = evaluateSamples(above80clear75, idle, series(85), ids());
    expect(open.state.open).toEqual({ alertId: 'a1', peakValue: 85 });
    const state = open.state;
    const hover = evaluateSamples(above80clear75, state, series(79, 76, 80, 77.5, 75.01).map((s, i) => ({ ...s, time: at(10 + i) })), ids());
    expect(hover.raised).toEqual([]);
    expect(hover.changed).toBeNull();
  });

  it('an alert open before the batch gets its new peak and its clear', () => {
    const state: EvaluationState = { breachSince: at(0), breachSamples: 1, lastSampleAt: at(0), open: { alertId: 'old', peakValue: 85 } };
    const result = evaluateSamples(above80clear75, state, [{ value: 99, time: at(3) }, { value: 88, time: at(4) }, { value: 70, time: at(5) }], ids());
    expect(result.changed).toEqual({ alertId: 'old', peak: { value: 99, time: at(3) }, cleared: { value: 70, time: at(5) } });
    expect(result.raised).toEqual([]);
  });

  it('re-raises after a clear within one batch (two alerts, the second open)', () => {
    const result = evaluateSamples(above80clear75, idle, series(81, 70, 82), ids());
    expect(result.raised.map((a) => [a.alertId, a.value, a.cleared?.value ?? null])).toEqual([
      ['a1', 81, 70],
      ['a2', 82, null],
    ]);
  });

  it('forSamples: raises at the Nth consecutive breaching sample; a hover starts the count again', () => {
    const r = { ...above80clear75, forSamples: 3 };
    expect(evaluateSamples(r, idle, series(81, 82, 76, 83, 84), ids()).raised).toEqual([]);
    const result = evaluateSamples(r, idle, series(81, 82, 76, 83, 84, 85), ids());
    expect(result.raised.map((a) => [a.value, a.raisedAt])).toEqual([[85, at(5)]]);
  });

  it('forSamples: the count carries across batches in the state', () => {
    const r = { ...above80clear75, forSamples: 3 };
    const first = evaluateSamples(r, idle, series(81, 82), ids());
    expect(first.raised).toEqual([]);
    expect(first.state.breachSamples).toBe(2);
    const second = evaluateSamples(r, { ...first.state, open: null }, [{ value: 83, time: at(2) }], ids());
    expect(second.raised).toHaveLength(1);
  });

  it('forSeconds: raises once breaching for the duration, by sample time', () => {
    const r = { ...above80clear75, forSeconds: 60 };
    const samples = [0, 30, 59, 60].map((s) => ({ value: 90, time: at(s) }));
    const result = evaluateSamples(r, idle, samples, ids());
    expect(result.raised.map((a) => a.raisedAt)).toEqual([at(60)]);
    expect(result.state.breachSince).toEqual(at(0));
  });

  it('ignores samples not newer than the last evaluated (redelivery, out of order) and sorts the batch', () => {
    const state: EvaluationState = { breachSince: null, breachSamples: 0, lastSampleAt: at(10), open: null };
    expect(evaluateSamples(above80clear75, state, [{ value: 99, time: at(10) }, { value: 99, time: at(5) }], ids()).raised).toEqual([]);
    const shuffled = evaluateSamples(above80clear75, idle, [{ value: 70, time: at(2) }, { value: 90, time: at(1) }], ids());
    expect(shuffled.raised[0]).toMatchObject({ value: 90, cleared: { value: 70 } });
  });
});
