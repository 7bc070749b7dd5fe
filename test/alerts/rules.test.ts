import { describe, expect, it } from 'vitest';
import { ruleDefinitionSchema } from '../../src/modules/alerts/rules.js';

const base = { name: 'hot', kind: 'threshold', scope: 'tenant', metric: 'temp', condition: 'above', threshold: 80, severity: 'major', enabled: true };

describe('alert rule definitions', () => {
  it.each<[string, Record<string, unknown>]>([
    ['ABOVE with a clear threshold', { clearThreshold: 75 }],
    ['BELOW with a clear threshold', { condition: 'below', threshold: 10, clearThreshold: 12 }],
    ['OUTSIDE with hysteresis', { condition: 'outside', threshold: null, low: 10, high: 20, hysteresis: 5 }],
    ['INSIDE', { condition: 'inside', threshold: null, low: -5, high: 5 }],
    ['forSeconds', { forSeconds: 60 }],
    ['forSamples', { forSamples: 3 }],
    ['DEVICE scope', { scope: 'device', deviceId: 'd1' }],
    ['GROUP scope', { scope: 'group', groupId: 'g1' }],
    ['OFFLINE', { kind: 'offline', metric: null, condition: null, threshold: null, forSeconds: 600 }],
    ['TWIN_NOT_CONVERGED', { kind: 'twin_not_converged', metric: null, condition: null, threshold: null, forSeconds: 300 }],
  ])('accepts %s', (_label, patch) => {
    expect(ruleDefinitionSchema.safeParse({ ...base, ...patch }).success).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an empty name', { name: '  ' }, 'name'],
    ['ABOVE without a threshold', { threshold: null }, 'threshold'],
    ['an ABOVE clear threshold over the threshold', { clearThreshold: 81 }, 'clearThreshold'],
    ['a BELOW clear threshold under the threshold', { condition: 'below', threshold: 10, clearThreshold: 9 }, 'clearThreshold'],
    ['ABOVE with a range', { low: 1, high: 2 }, 'low'],
    ['OUTSIDE without high', { condition: 'outside', threshold: null, low: 1 }, 'high'],
    ['OUTSIDE with low ≥ high', { condition: 'outside', threshold: null, low: 2, high: 2 }, 'high'],
    ['OUTSIDE with hysteresis over half the band', { condition: 'outside', threshold: null, low: 0, high: 10, hysteresis: 5.5 }, 'hysteresis'],
    ['OUTSIDE with a threshold', { condition: 'outside', low: 0, high: 10 }, 'threshold'],
    ['negative hysteresis', { condition: 'inside', threshold: null, low: 0, high: 10, hysteresis: -1 }, 'hysteresis'],
    ['both durations', { forSeconds: 5, forSamples: 5 }, 'forSamples'],
    ['a zero duration', { forSeconds: 0 }, 'forSeconds'],
    ['a duration over 30 days', { forSeconds: 30 * 86_400 + 1 }, 'forSeconds'],
    ['no metric', { metric: null }, 'metric'],
    ['a bad metric name', { metric: 'a b' }, 'metric'],
    ['no condition', { condition: null }, 'condition'],
    ['DEVICE scope without a device', { scope: 'device' }, 'deviceId'],
    ['TENANT scope naming a group', { groupId: 'g' }, 'groupId'],
    ['GROUP scope naming a device too', { scope: 'group', groupId: 'g', deviceId: 'd' }, 'deviceId'],
    ['OFFLINE without a duration', { kind: 'offline', metric: null, condition: null, threshold: null }, 'forSeconds'],
    ['OFFLINE with a metric', { kind: 'offline', condition: null, threshold: null, forSeconds: 60 }, 'metric'],
    ['an unknown severity', { severity: 'urgent' }, 'severity'],
    ['an absurd threshold', { threshold: 1e300 }, 'threshold'],
  ])('refuses %s (issue at %s)', (_label, patch, path) => {
    const result = ruleDefinitionSchema.safeParse({ ...base, ...patch });
    expect(result.success).toBe(false);
    expect(result.success ? [] : result.error.issues.map((issue) => issue.path[0])).toContain(path);
  });

  it('maps low/high onto the range columns', () => {
    const result = ruleDefinitionSchema.parse({ ...base, condition: 'inside', threshold: null, low: 1, high: 2 });
    expect(result).toMatchObject({ condition: 'inside', threshold: null, rangeLow: 1, rangeHigh: 2, hysteresis: null, deviceId: null, groupId: null });
  });
});
