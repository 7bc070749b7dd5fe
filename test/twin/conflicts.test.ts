import { describe, expect, test } from 'vitest';
import { changedPaths, pathsWrittenSince, type RecordedWrite } from '../../src/modules/twin/conflicts.js';
import type { JsonObject } from '../../src/modules/twin/json.js';
import { viewTwin } from '../../src/modules/twin/view.js';

describe('changedPaths', () => {
  test.for([
    ['equal documents', { a: 1, b: { c: [1] } }, { a: 1, b: { c: [1] } }, []],
    ['a scalar changes', { a: 1, b: 2 }, { a: 3, b: 2 }, ['a']],
    ['a nested key is removed and one added', { n: { x: 1 } }, { n: { y: 2 } }, ['n.x', 'n.y']],
    ['an array changes as a whole', { list: [1, 2] }, { list: [1, 2, 3] }, ['list']],
    ['a scalar becomes an object', { a: 1 }, { a: { b: 1 } }, ['a', 'a.b']],
    ['a null member cannot be a merge patch: the root', { a: 1 }, { a: null }, ['']],
  ] as Array<[string, JsonObject, JsonObject, string[]]>)('%s', ([, before, after, expected]) => {
    expect(changedPaths(before, after)).toEqual(expected);
  });
});

describe('pathsWrittenSince', () => {
  const write = (version: number, patch: RecordedWrite['patch'], document: JsonObject): RecordedWrite => ({ version, patch, document });

  test('collects the declared paths of consecutive merge writes, sorted', () => {
    const writes = [write(3, { z: 1, net: { apn: 'x' } }, { a: 1, z: 1, net: { apn: 'x' } }), write(4, { a: null }, { z: 1, net: { apn: 'x' } })];
    expect(pathsWrittenSince({ a: 1 }, 2, writes)).toEqual(['a', 'net.apn', 'z']);
  });

  test('a write of an unchanged value still counts: the writer stated an intent there', () => {
    expect(pathsWrittenSince({ a: 1 }, 0, [write(1, { a: 1 }, { a: 1 })])).toEqual(['a']);
  });

  test('a REPLACE recorded as the patch it amounts to counts with that patch', () => {
    expect(pathsWrittenSince({ a: 1, b: 1 }, 5, [write(6, { a: null, c: 1 }, { b: 1, c: 1 })])).toEqual(['a', 'c']);
  });

  test('a patch that does not replay to its document counts with the actual difference', () => {
    expect(pathsWrittenSince({ a: 1, b: 1 }, 0, [write(1, { b: 1, c: { d: null } }, { a: 1, b: 1, c: { d: null } })])).toEqual(['']);
    expect(pathsWrittenSince({ a: 1 }, 0, [write(1, { x: 1 }, { a: 2 })])).toEqual(['a']);
  });

  test('a gap in the versions rules nothing out: the root', () => {
    expect(pathsWrittenSince({}, 1, [write(3, { a: 1 }, { a: 1 })])).toEqual(['']);
  });

  test('no writes, no paths', () => {
    expect(pathsWrittenSince({ a: 1 }, 4, [])).toEqual([]);
  });
});

describe('viewTwin', () => {
  const desiredUpdatedAt = new Date('2026-01-02T03:04:05Z');

  test.for([
    ['in sync whatever the status', { a: 1 }, { a: 1, extra: true }, 'OFFLINE', 'IN_SYNC', null],
    ['pending when online', { a: 1 }, { a: 2 }, 'ONLINE', 'PENDING', desiredUpdatedAt],
    ['stale when stale', { a: 1 }, {}, 'STALE', 'STALE', desiredUpdatedAt],
    ['an unknown status counts as offline', { a: 1 }, {}, 'SLEEPING', 'STALE', desiredUpdatedAt],
  ] as const)('%s', ([, desired, reported, status, expected, pendingSince]) => {
    const view = viewTwin({ desiredState: desired, reportedState: reported, desiredVersion: 1, status, desiredUpdatedAt });
    expect(view.sync.status).toBe(expected);
    expect(view.sync.pendingSince).toEqual(pendingSince);
  });

  test('documents that are not objects read as empty', () => {
    expect(viewTwin({ desiredState: null, reportedState: [1], desiredVersion: 0, status: 'ONLINE' }).delta).toEqual({
      added: [],
      removed: [],
      changed: [],
      unchanged: [],
    });
  });
});
