import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../../src/modules/twin/json.js';
import { mergePatchPaths } from '../../src/modules/twin/merge-patch.js';
import {
  isMetadataLeaf,
  lastUpdatedAt,
  updateMetadata,
  type TwinMetadata,
} from '../../src/modules/twin/metadata.js';

const T0 = '2025-01-01T00:00:00.000Z';
const T1 = new Date('2025-06-01T12:00:00.000Z');
const NOW = T1.toISOString();
const at = (iso: string) => ({ $lastUpdated: iso });

describe('updateMetadata', () => {
  it.each<[string, JsonValue | undefined, JsonValue | undefined, JsonObject, TwinMetadata]>([
    ['first write stamps every leaf', undefined, undefined, { a: 1, n: { b: [1], c: null } }, { a: at(NOW), n: { b: at(NOW), c: at(NOW) } }],
    ['unchanged leaf keeps its timestamp', { a: at(T0), b: at(T0) }, { a: 1, b: 2 }, { a: 1, b: 3 }, { a: at(T0), b: at(NOW) }],
    ['deleted keys disappear', { a: at(T0), n: { x: at(T0), y: at(T0) } }, { a: 1, n: { x: 1, y: 2 } }, { n: { y: 2 } }, { n: { y: at(T0) } }],
    ['array is one leaf, compared as a value', { a: at(T0) }, { a: [1, 2] }, { a: [2, 1] }, { a: at(NOW) }],
    ['equal array keeps timestamp', { a: at(T0) }, { a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, { a: at(T0) }],
    ['empty object is a leaf', { a: at(T0) }, { a: {} }, { a: {} }, { a: at(T0) }],
    ['scalar becomes object', { a: at(T0) }, { a: 1 }, { a: { b: 1 } }, { a: { b: at(NOW) } }],
    ['object becomes scalar', { a: { b: at(T0) } }, { a: { b: 1 } }, { a: 1 }, { a: at(NOW) }],
    ['object becomes empty object', { a: { b: at(T0) } }, { a: { b: 1 } }, { a: {} }, { a: at(NOW) }],
    ['null is a value', { a: at(T0) }, { a: null }, { a: null }, { a: at(T0) }],
    ['missing previous metadata restamps', undefined, { a: 1 }, { a: 1 }, { a: at(NOW) }],
    ['garbage previous metadata restamps', 'garbage', { a: 1 }, { a: 1 }, { a: at(NOW) }],
    ['non-string timestamp is not a leaf', { a: { $lastUpdated: 5 } }, { a: 1 }, { a: 1 }, { a: at(NOW) }],
    ['dotted key', { 'a.b': at(T0) }, { 'a.b': 1 }, { 'a.b': 1, c: 2 }, { 'a.b': at(T0), c: at(NOW) }],
    [
      'document key named $lastUpdated mirrors as an object',
      { cfg: { $lastUpdated: at(T0) } },
      { cfg: { $lastUpdated: 'x' } },
      { cfg: { $lastUpdated: 'x', y: 1 } },
      { cfg: { $lastUpdated: at(T0), y: at(NOW) } },
    ],
  ])('%s', (_name, previous, before, after, expected) => {
    expect(updateMetadata(previous, before, after, T1)).toEqual(expected);
  });

  it.each<[string, string[], TwinMetadata]>([
    ['touched leaf is restamped even if equal', ['a'], { a: at(NOW), n: { x: at(T0), y: at(T0) } }],
    ['touched ancestor restamps its subtree', ['n'], { a: at(T0), n: { x: at(NOW), y: at(NOW) } }],
    ['touched descendant path restamps only overlapping leaves', ['n.x'], { a: at(T0), n: { x: at(NOW), y: at(T0) } }],
    ['root restamps everything', [''], { a: at(NOW), n: { x: at(NOW), y: at(NOW) } }],
    ['unrelated path changes nothing', ['zz'], { a: at(T0), n: { x: at(T0), y: at(T0) } }],
  ])('%s', (_name, touched, expected) => {
    const doc = { a: 1, n: { x: 1, y: 2 } };
    const previous = { a: at(T0), n: { x: at(T0), y: at(T0) } };
    expect(updateMetadata(previous, doc, doc, T1, touched)).toEqual(expected);
  });

  it('restamps what a re-reported merge patch touches', () => {
    const doc = { fw: '1.0', net: { rssi: -70 } };
    const previous = { fw: at(T0), net: { rssi: at(T0) } };
    const touched = mergePatchPaths({ net: { rssi: -70 } }, doc);
    expect(updateMetadata(previous, doc, doc, T1, touched)).toEqual({ fw: at(T0), net: { rssi: at(NOW) } });
  });

  it('does not mutate its inputs', () => {
    const previous = Object.freeze({ a: Object.freeze(at(T0)) });
    const before = Object.freeze({ a: 1 });
    const after = Object.freeze({ a: 2 });
    expect(updateMetadata(previous, before, after, T1)).toEqual({ a: at(NOW) });
    expect(previous).toEqual({ a: at(T0) });
  });
});

describe('lastUpdatedAt / isMetadataLeaf', () => {
  const metadata = { a: at(T0), n: { 'x.y': at(NOW) } };
  it.each<[string[], string | null]>([
    [['a'], T0],
    [['n', 'x.y'], NOW],
    [['n'], null],
    [['a', 'deeper'], null],
    [['missing'], null],
    [[], null],
  ])('%j -> %s', (segments, expected) => {
    expect(lastUpdatedAt(metadata, segments)).toBe(expected);
  });

  it.each<[unknown, boolean]>([
    [at(T0), true],
    [{ $lastUpdated: at(T0) }, false],
    [{ $lastUpdated: 1 }, false],
    [null, false],
    ['x', false],
  ])('isMetadataLeaf(%j) -> %s', (node, expected) => {
    expect(isMetadataLeaf(node)).toBe(expected);
  });
});
