import { describe, expect, it } from 'vitest';
import { planBatch, type PlannedMessage } from '../../src/mqtt/batch-plan.js';

/** `a:h` = device a, kind heartbeat; status has no set-based handler, heartbeat and telemetry do. */
const batch = (...messages: string[]): PlannedMessage[] =>
  messages.map((message) => {
    const [deviceKey, kind] = message.split(':') as [string, string];
    return { deviceKey, kind: { h: 'heartbeat', s: 'status', t: 'telemetry' }[kind]! };
  });
const hasMany = (kind: string) => kind !== 'status';
/** The plan as `kind[positions]` per step, e.g. `heartbeat[0,2] status[1]`. */
const describePlan = (messages: PlannedMessage[]) =>
  planBatch(messages, hasMany)
    .map((step) => `${step.kind}${step.many ? '*' : ''}[${step.positions.join(',')}]`)
    .join(' ');

describe('planBatch', () => {
  it.each([
    ['one kind from many devices: one call', batch('a:h', 'b:h', 'a:h', 'c:h'), 'heartbeat*[0,1,2,3]'],
    ['kinds interleaved across devices: one call per kind', batch('a:h', 'b:t', 'c:h', 'd:t'), 'heartbeat*[0,2] telemetry*[1,3]'],
    ['a device changing kind starts its next run', batch('a:h', 'a:t', 'a:h'), 'heartbeat*[0] telemetry*[1] heartbeat*[2]'],
    ['runs of one device stay consecutive in a call', batch('a:h', 'a:h', 'b:h', 'a:t'), 'heartbeat*[0,1,2] telemetry*[3]'],
    ['a status between heartbeats stays between them', batch('a:h', 'b:h', 'a:s', 'b:h', 'a:h'), 'heartbeat*[0,1,3] status[2] heartbeat*[4]'],
    ['kinds without a set-based handler: one call per message', batch('a:s', 'b:s', 'a:s'), 'status[0] status[1] status[2]'],
    ['statuses first, then every device’s heartbeats', batch('a:s', 'b:s', 'a:h', 'b:h', 'a:h'), 'status[0] status[1] heartbeat*[2,3,4]'],
    ['empty', batch(), ''],
  ])('%s', (_name, messages, expected) => {
    expect(describePlan(messages)).toBe(expected);
  });

  it('keeps every device’s order and covers every position once, whatever the mix', () => {
    // A deterministic pseudo-random mix: 5 devices, 3 kinds, 400 messages.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const messages = Array.from({ length: 400 }, () => ({ deviceKey: `d${next(5)}`, kind: ['heartbeat', 'status', 'telemetry'][next(3)]! }));
    const steps = planBatch(messages, hasMany);
    const order = steps.flatMap((step) => step.positions);
    expect([...order].sort((x, y) => x - y)).toEqual(messages.map((_, position) => position));
    for (const device of ['d0', 'd1', 'd2', 'd3', 'd4']) {
      const applied = order.filter((position) => messages[position]!.deviceKey === device);
      expect(applied).toEqual([...applied].sort((x, y) => x - y));
    }
    for (const step of steps) expect(new Set(step.positions.map((position) => messages[position]!.kind))).toEqual(new Set([step.kind]));
    // Fewer calls than changes of kind on the wire: the point of the plan.
    const wireRuns = messages.filter((message, index) => index === 0 || !hasMany(message.kind) || messages[index - 1]!.kind !== message.kind).length;
    expect(steps.length).toBeLessThan(wireRuns);
  });
});
