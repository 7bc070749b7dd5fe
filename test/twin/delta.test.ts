import { describe, expect, it } from 'vitest';
import {
  computeSyncStatus,
  computeTwinDelta,
  type DeviceStatus,
  type TwinDelta,
  type TwinSyncStatus,
} from '../../src/modules/twin/delta.js';
import type { JsonObject } from '../../src/modules/twin/json.js';

const empty: TwinDelta = { added: [], removed: [], changed: [], unchanged: [] };

function deepNest(depth: number, leaf: JsonObject): JsonObject {
  let value = leaf;
  for (let i = depth - 1; i >= 0; i -= 1) value = { [`k${i}`]: value };
  return value;
}
const deepPath = (depth: number, tail: string): string =>
  [...Array.from({ length: depth }, (_, i) => `k${i}`), tail].join('.');

describe('computeTwinDelta', () => {
  it.each<[string, JsonObject | null | undefined, JsonObject | null | undefined, Partial<TwinDelta>]>([
    ['both empty', {}, {}, {}],
    ['missing documents count as empty', null, undefined, {}],
    ['equal scalar', { a: 1 }, { a: 1 }, { unchanged: ['a'] }],
    ['added scalar', { a: 1 }, {}, { added: [{ path: 'a', value: 1 }] }],
    ['removed scalar', {}, { a: 1 }, { removed: [{ path: 'a', value: 1 }] }],
    ['changed scalar', { a: 1 }, { a: 2 }, { changed: [{ path: 'a', desired: 1, reported: 2 }] }],
    ['number vs string', { a: 1 }, { a: '1' }, { changed: [{ path: 'a', desired: 1, reported: '1' }] }],
    ['null is a present value', { a: null }, { a: null }, { unchanged: ['a'] }],
    ['null vs absent', { a: null }, {}, { added: [{ path: 'a', value: null }] }],
    ['null vs value', { a: null }, { a: 0 }, { changed: [{ path: 'a', desired: null, reported: 0 }] }],
    [
      'nested objects recurse to leaves',
      { cfg: { net: { apn: 'x', mtu: 1500 }, led: true } },
      { cfg: { net: { apn: 'y', mtu: 1500 }, fw: '1.2' } },
      {
        added: [{ path: 'cfg.led', value: true }],
        removed: [{ path: 'cfg.fw', value: '1.2' }],
        changed: [{ path: 'cfg.net.apn', desired: 'x', reported: 'y' }],
        unchanged: ['cfg.net.mtu'],
      },
    ],
    [
      'added subtree expands to leaves',
      { n: { b: 1, a: { c: [1] } } },
      {},
      { added: [{ path: 'n.a.c', value: [1] }, { path: 'n.b', value: 1 }] },
    ],
    ['object vs scalar is one change', { a: { b: 1 } }, { a: 5 }, { changed: [{ path: 'a', desired: { b: 1 }, reported: 5 }] }],
    ['scalar vs object', { a: 'x' }, { a: { b: 1 } }, { changed: [{ path: 'a', desired: 'x', reported: { b: 1 } }] }],
    ['object vs array', { a: { 0: 1 } }, { a: [1] }, { changed: [{ path: 'a', desired: { 0: 1 }, reported: [1] }] }],
    ['arrays equal as values', { a: [1, { b: [2] }] }, { a: [1, { b: [2] }] }, { unchanged: ['a'] }],
    ['array order matters', { a: [1, 2] }, { a: [2, 1] }, { changed: [{ path: 'a', desired: [1, 2], reported: [2, 1] }] }],
    ['object key order does not', { a: { x: 1, y: [{ p: 1, q: 2 }] } }, { a: { y: [{ q: 2, p: 1 }], x: 1 } }, { unchanged: ['a.x', 'a.y'] }],
    ['empty objects on both sides', { a: {} }, { a: {} }, { unchanged: ['a'] }],
    ['empty object added', { a: {} }, {}, { added: [{ path: 'a', value: {} }] }],
    ['empty object removed', {}, { a: {} }, { removed: [{ path: 'a', value: {} }] }],
    ['empty desired vs filled reported', { a: {} }, { a: { x: 1 } }, { removed: [{ path: 'a.x', value: 1 }] }],
    ['filled desired vs empty reported', { a: { x: 1 } }, { a: {} }, { added: [{ path: 'a.x', value: 1 }] }],
    ['empty object vs scalar', { a: {} }, { a: 1 }, { changed: [{ path: 'a', desired: {}, reported: 1 }] }],
    [
      'dotted keys stay distinct from nesting',
      { 'a.b': 1, a: { b: 2 } },
      { 'a.b': 1, a: { b: 3 } },
      { changed: [{ path: 'a.b', desired: 2, reported: 3 }], unchanged: ['["a.b"]'] },
    ],
    [
      'deep nesting (depth 12)',
      deepNest(12, { x: 1, y: 2 }),
      deepNest(12, { x: 1, y: 3 }),
      { changed: [{ path: deepPath(12, 'y'), desired: 2, reported: 3 }], unchanged: [deepPath(12, 'x')] },
    ],
    [
      'output sorted key by key',
      { b: 1, 'a-b': 1, a: { z: 1, y: 1 } },
      {},
      {
        added: [
          { path: 'a.y', value: 1 },
          { path: 'a.z', value: 1 },
          { path: 'a-b', value: 1 },
          { path: 'b', value: 1 },
        ],
      },
    ],
  ])('%s', (_name, desired, reported, expected) => {
    expect(computeTwinDelta(desired, reported)).toEqual({ ...empty, ...expected });
  });

  it('does not mutate its inputs', () => {
    const desired = Object.freeze({ a: Object.freeze({ b: 1 }), c: 2 });
    const reported = Object.freeze({ a: Object.freeze({ b: 2 }), d: 3 });
    const delta = computeTwinDelta(desired, reported);
    expect(delta.changed).toEqual([{ path: 'a.b', desired: 1, reported: 2 }]);
    expect(desired).toEqual({ a: { b: 1 }, c: 2 });
    expect(reported).toEqual({ a: { b: 2 }, d: 3 });
  });
});

describe('computeSyncStatus', () => {
  const desiredUpdatedAt = new Date('2025-01-02T03:04:05.000Z');
  const reportedUpdatedAt = new Date('2025-01-03T00:00:00.000Z');
  const pending = computeTwinDelta({ a: 1 }, { a: 2 });
  const missing = computeTwinDelta({ a: 1 }, {});
  const extraOnly = computeTwinDelta({ a: 1 }, { a: 1, fw: '1.0' });

  it.each<[string, TwinDelta, DeviceStatus, TwinSyncStatus, Date | null]>([
    ['no delta, online', empty, 'ONLINE', 'IN_SYNC', null],
    ['no delta, offline', empty, 'OFFLINE', 'IN_SYNC', null],
    ['only extra reported keys, online', extraOnly, 'ONLINE', 'IN_SYNC', null],
    ['only extra reported keys, stale', extraOnly, 'STALE', 'IN_SYNC', null],
    ['changed, online', pending, 'ONLINE', 'PENDING', desiredUpdatedAt],
    ['added, online', missing, 'ONLINE', 'PENDING', desiredUpdatedAt],
    ['changed, stale', pending, 'STALE', 'STALE', desiredUpdatedAt],
    ['added, offline', missing, 'OFFLINE', 'STALE', desiredUpdatedAt],
  ])('%s', (_name, delta, deviceStatus, status, pendingSince) => {
    const result = computeSyncStatus({ delta, deviceStatus, desiredUpdatedAt, reportedUpdatedAt, desiredVersion: 3 });
    expect(result).toEqual({ status, pendingSince, desiredAcknowledged: null });
  });

  it('falls back to reportedUpdatedAt when desired was never timestamped', () => {
    const result = computeSyncStatus({ delta: pending, deviceStatus: 'ONLINE', desiredUpdatedAt: null, reportedUpdatedAt, desiredVersion: 0 });
    expect(result.pendingSince).toEqual(reportedUpdatedAt);
    const none = computeSyncStatus({ delta: pending, deviceStatus: 'ONLINE', desiredUpdatedAt: null, desiredVersion: 0 });
    expect(none).toEqual({ status: 'PENDING', pendingSince: null, desiredAcknowledged: null });
  });

  it.each<[number | null | undefined, boolean | null]>([
    [undefined, null],
    [null, null],
    [4, false],
    [5, true],
    [6, true],
  ])('lastReportedDesiredVersion %s against version 5 -> acknowledged %s', (last, acknowledged) => {
    const result = computeSyncStatus({
      delta: pending,
      deviceStatus: 'ONLINE',
      desiredUpdatedAt,
      desiredVersion: 5,
      lastReportedDesiredVersion: last,
    });
    expect(result).toEqual({ status: 'PENDING', pendingSince: desiredUpdatedAt, desiredAcknowledged: acknowledged });
  });
});
