import { describe, expect, it } from 'vitest';
import {
  comparePaths,
  conflictingPaths,
  isAncestorPath,
  joinedKeyLength,
  joinPath,
  parsePath,
  pathFromSegments,
  pathsOverlap,
  ROOT_PATH,
} from '../../src/modules/twin/paths.js';

describe('joinPath / pathFromSegments / parsePath', () => {
  it.each<[string[], string]>([
    [[], ''],
    [['config'], 'config'],
    [['config', 'network', 'apn'], 'config.network.apn'],
    [['a_b-c', '0'], 'a_b-c.0'],
    [['a.b'], '["a.b"]'],
    [['config', 'x.y', 'z'], 'config["x.y"].z'],
    [['a', ''], 'a[""]'],
    [[''], '[""]'],
    [['a', 'with space'], 'a["with space"]'],
    [['a', 'q"uote', 'b\\s'], 'a["q\\"uote"]["b\\\\s"]'],
    [['a', '["x"]'], 'a["[\\"x\\"]"]'],
    [['ключ', '🔑'], '["ключ"]["🔑"]'],
    [['a', '~1'], 'a["~1"]'],
  ])('%j <-> %s', (segments, path) => {
    expect(pathFromSegments(segments)).toBe(path);
    expect(parsePath(path)).toEqual(segments);
    const last = segments.at(-1);
    if (last !== undefined) {
      const parent = pathFromSegments(segments.slice(0, -1));
      expect(joinPath(parent, last)).toBe(path);
      expect(parent.length + joinedKeyLength(parent === ROOT_PATH, last)).toBe(path.length);
    }
  });

  it('keeps a dotted key distinct from the nested path it resembles', () => {
    expect(joinPath('', 'a.b')).not.toBe(joinPath(joinPath('', 'a'), 'b'));
  });

  it.each([
    'a.',
    '.a',
    'a..b',
    'a b',
    'a.["x"]',
    '["a"]',
    'a["x"',
    'a["x"]b',
    "a['x']",
    '["\\u0041x"]',
    'a[1]',
    'a["x"]]',
  ])('rejects non-canonical or malformed %s', (path) => {
    expect(parsePath(path)).toBeNull();
  });
});

describe('pathsOverlap / isAncestorPath', () => {
  it.each<[string, string, boolean]>([
    ['a', 'a', true],
    ['a', 'a.b', true],
    ['a.b', 'a', true],
    ['a', 'a.b.c.d.e.f.g.h.i.j.k', true],
    ['a', 'a["x.y"]', true],
    ['a["x.y"]', 'a["x.y"].z', true],
    ['', 'anything.at.all', true],
    ['a', 'ab', false],
    ['a.b', 'a.c', false],
    ['a.b', 'a.bc', false],
    ['a["x"]', 'a["x.y"]', false],
    ['["a.b"]', 'a.b', false],
    ['a-b', 'a', false],
  ])('%s vs %s -> %s', (a, b, expected) => {
    expect(pathsOverlap(a, b)).toBe(expected);
    expect(pathsOverlap(b, a)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['a', 'a.b', true],
    ['a.b', 'a', false],
    ['a', 'a', false],
    ['', 'a', true],
    ['', '', false],
  ])('isAncestorPath(%s, %s) -> %s', (a, b, expected) => {
    expect(isAncestorPath(a, b)).toBe(expected);
  });
});

describe('comparePaths', () => {
  it('orders key by key with ancestors first and subtrees contiguous', () => {
    const paths = ['b', 'a-b', 'a.z', 'a', '["a.b"]', 'a.b.c', '', 'a["x y"]'];
    expect([...paths].sort(comparePaths)).toEqual(['', 'a', 'a.b.c', 'a["x y"]', 'a.z', 'a-b', '["a.b"]', 'b']);
  });
});

describe('conflictingPaths', () => {
  it.each<[string, string[], string[], string[]]>([
    ['disjoint writes', ['config.a'], ['config.b'], []],
    ['same path', ['config.a'], ['config.a', 'config.b'], ['config.a']],
    ['changed ancestor of written path', ['config'], ['config.net.apn', 'other'], ['config.net.apn']],
    ['changed descendant of written path', ['config.net.apn'], ['config', 'x'], ['config']],
    ['root replaced since expected', [''], ['b', 'a'], ['a', 'b']],
    ['write replaces root', ['z.y'], [''], ['']],
    ['dotted key is not an ancestor', ['["a.b"]'], ['a.b', 'a'], []],
    ['dotted key under an ancestor', ['a'], ['a["x.y"]'], ['a["x.y"]']],
    ['duplicates collapse and output is sorted', ['a', 'a'], ['a.c', 'a.b', 'a.c'], ['a.b', 'a.c']],
    ['nothing changed', [], ['a'], []],
    ['similar prefix is not overlap', ['net'], ['network.apn'], []],
  ])('%s', (_name, changed, touched, expected) => {
    expect(conflictingPaths(changed, touched)).toEqual(expected);
  });

  it('accepts any iterable', () => {
    expect(conflictingPaths(new Set(['a']), ['a.b'].values())).toEqual(['a.b']);
  });
});
