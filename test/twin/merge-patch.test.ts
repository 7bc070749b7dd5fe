import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/modules/twin/json.js';
import {
  applyMergePatch,
  diffToMergePatch,
  hasNullMember,
  mergePatchPaths,
} from '../../src/modules/twin/merge-patch.js';

/** Recursively freezes a value so any mutation by the code under test throws in strict mode. */
function deepFreeze<T extends JsonValue>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach((child) => deepFreeze(child));
    Object.freeze(value);
  }
  return value;
}

/** Nests `leaf` under `depth` keys named k0, k1, ... */
function nested(depth: number, leaf: JsonValue): JsonValue {
  let value = leaf;
  for (let i = depth - 1; i >= 0; i -= 1) value = { [`k${i}`]: value };
  return value;
}

describe('applyMergePatch: RFC 7396 Appendix A', () => {
  it.each<[string, JsonValue, JsonValue, JsonValue]>([
    ['replace member', { a: 'b' }, { a: 'c' }, { a: 'c' }],
    ['add member', { a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    ['delete only member', { a: 'b' }, { a: null }, {}],
    ['delete one of two', { a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    ['array replaced by string', { a: ['b'] }, { a: 'c' }, { a: 'c' }],
    ['string replaced by array', { a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    ['nested merge with delete', { a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    ['array of objects replaced', { a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    ['array replaces array', ['a', 'b'], ['c', 'd'], ['c', 'd']],
    ['array replaces object', { a: 'b' }, ['c'], ['c']],
    ['null replaces document', { a: 'foo' }, null, null],
    ['string replaces document', { a: 'foo' }, 'bar', 'bar'],
    ['existing null member kept', { e: null }, { a: 1 }, { e: null, a: 1 }],
    ['object patch on array target', [1, 2], { a: 'b', c: null }, { a: 'b' }],
    ['nested null on empty target', {}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%s', (_name, target, patch, expected) => {
    expect(applyMergePatch(deepFreeze(target), deepFreeze(patch))).toEqual(expected);
  });
});

describe('applyMergePatch: twin cases', () => {
  it.each<[string, JsonValue | undefined, JsonValue, JsonValue]>([
    ['undefined target', undefined, { a: 1 }, { a: 1 }],
    ['delete absent key is a no-op', { a: 1 }, { b: null }, { a: 1 }],
    ['object replaces scalar', { a: 5 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['scalar replaces object', { a: { b: 1 } }, { a: 5 }, { a: 5 }],
    ['array replaces object', { a: { b: 1 } }, { a: [1, 2] }, { a: [1, 2] }],
    ['object replaces array', { a: [1] }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['empty object patch merges nothing', { a: { b: 1 } }, { a: {} }, { a: { b: 1 } }],
    ['empty object replaces scalar', { a: 5 }, { a: {} }, { a: {} }],
    ['empty object creates member', {}, { a: {} }, { a: {} }],
    ['empty patch is identity', { a: 1, b: [2] }, {}, { a: 1, b: [2] }],
    ['null inside array is a value', { a: 1 }, { a: [null, { x: null }] }, { a: [null, { x: null }] }],
    ['key with dots is one key', { 'a.b': 1, a: { b: 2 } }, { 'a.b': null }, { a: { b: 2 } }],
    ['unicode keys', { 'ключ': 1 }, { 'ключ': 'значение', '🔑': true }, { 'ключ': 'значение', '🔑': true }],
    ['deep nested merge (depth 12)', nested(12, { x: 1, y: 2 }), nested(12, { y: null, z: 3 }), nested(12, { x: 1, z: 3 })],
  ])('%s', (_name, target, patch, expected) => {
    expect(applyMergePatch(target === undefined ? undefined : deepFreeze(target), deepFreeze(patch))).toEqual(expected);
  });

  it('treats "__proto__" as an ordinary member, never touching prototypes', () => {
    const target = JSON.parse('{"a":1}') as JsonValue;
    const patch = JSON.parse('{"__proto__":{"polluted":true}}') as JsonValue;
    const result = applyMergePatch(target, patch) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['a', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const removed = applyMergePatch(result as JsonValue, JSON.parse('{"__proto__":null}') as JsonValue);
    expect(Object.keys(removed as object)).toEqual(['a']);
  });

  it('leaves inputs untouched and does not alias array values from the patch', () => {
    const target = { a: { b: [1, 2] }, c: 'x' };
    const patch = { a: { b: [3] }, c: null, d: [{ e: 1 }] };
    const targetCopy = structuredClone(target);
    const patchCopy = structuredClone(patch);
    const result = applyMergePatch(target, patch) as { d: { e: number }[] };
    expect(target).toEqual(targetCopy);
    expect(patch).toEqual(patchCopy);
    result.d[0]!.e = 99;
    expect(patch.d[0]!.e).toBe(1);
  });
});

describe('mergePatchPaths', () => {
  it.each<[string, JsonValue, JsonValue | undefined, string[]]>([
    ['scalar sets', { a: 1 }, undefined, ['a']],
    ['null deletes', { a: null }, undefined, ['a']],
    ['array is a leaf', { a: [1, { b: 2 }] }, undefined, ['a']],
    ['object descends', { a: { b: 1, c: { d: null } } }, undefined, ['a.b', 'a.c.d']],
    ['empty patch touches nothing', {}, undefined, []],
    ['empty object without target touches its path', { a: {} }, undefined, ['a']],
    ['empty object over object target touches nothing', { a: {} }, { a: { x: 1 } }, []],
    ['empty object over scalar target', { a: {} }, { a: 1 }, ['a']],
    ['empty object over absent member', { a: {} }, { b: 1 }, ['a']],
    ['object over scalar touches path and leaves', { a: { b: 1 } }, { a: 5 }, ['a', 'a.b']],
    ['object over array', { a: { b: 1 } }, { a: [] }, ['a', 'a.b']],
    ['object over null member', { a: { b: 1 } }, { a: null }, ['a', 'a.b']],
    ['object over object target only descends', { a: { b: 1 } }, { a: { c: 2 } }, ['a.b']],
    ['non-object patch replaces root', [1], undefined, ['']],
    ['null patch replaces root', null, { a: 1 }, ['']],
    ['object patch over non-object root', { a: 1 }, 'x', ['', 'a']],
    ['dotted keys are escaped', { 'x.y': 1, net: { 'a b': 2 } }, undefined, ['net["a b"]', '["x.y"]']],
    ['sorted key by key', { b: 1, a: { z: 1, y: 2 }, 'a-b': 3 }, undefined, ['a.y', 'a.z', 'a-b', 'b']],
    ['deep (depth 12)', nested(12, 1), undefined, [Array.from({ length: 12 }, (_, i) => `k${i}`).join('.')]],
  ])('%s', (_name, patch, target, expected) => {
    expect(mergePatchPaths(patch, target)).toEqual(expected);
  });
});

describe('diffToMergePatch', () => {
  it.each<[string, JsonValue | undefined, JsonValue, JsonValue]>([
    ['equal objects give empty patch', { a: 1, b: { c: [1] } }, { b: { c: [1] }, a: 1 }, {}],
    ['changed scalar', { a: 1, b: 2 }, { a: 1, b: 3 }, { b: 3 }],
    ['removed member', { a: 1, b: 2 }, { a: 1 }, { b: null }],
    ['added nested', { a: 1 }, { a: 1, n: { x: { y: 1 } } }, { n: { x: { y: 1 } } }],
    ['nested change only', { n: { x: 1, y: 2 } }, { n: { x: 1, y: 3 } }, { n: { y: 3 } }],
    ['object to empty object', { n: { x: 1 } }, { n: {} }, { n: { x: null } }],
    ['scalar to empty object', { n: 1 }, { n: {} }, { n: {} }],
    ['object to scalar', { n: { x: 1 } }, { n: 1 }, { n: 1 }],
    ['array change is whole array', { a: [1, 2] }, { a: [1, 2, 3] }, { a: [1, 2, 3] }],
    ['array to object', { a: [1] }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['unchanged null member is fine', { a: null, b: 1 }, { a: null, b: 2 }, { b: 2 }],
    ['no before', undefined, { a: { b: 1 } }, { a: { b: 1 } }],
    ['non-object after replaces', { a: 1 }, [1, null], [1, null]],
    ['null after replaces', { a: 1 }, null, null],
    ['dotted key', { 'a.b': 1 }, { 'a.b': 2 }, { 'a.b': 2 }],
  ])('%s', (_name, before, after, expected) => {
    const patch = diffToMergePatch(before === undefined ? undefined : deepFreeze(before), deepFreeze(after));
    expect(patch).toEqual(expected);
    expect(applyMergePatch(before, patch!)).toEqual(after);
  });

  it.each<[string, JsonValue, JsonValue]>([
    ['member set to null', { a: 1 }, { a: null }],
    ['new member null', {}, { a: null }],
    ['null nested in added object', { a: 1 }, { a: { b: null } }],
    ['null nested in replaced root', 'x', { a: { b: null } }],
  ])('returns undefined when a null member would be needed: %s', (_name, before, after) => {
    expect(diffToMergePatch(before, after)).toBeUndefined();
  });

  it.each<[JsonValue, boolean]>([
    [{ a: 1 }, false],
    [{ a: { b: null } }, true],
    [{ a: [null, { b: null }] }, false],
    [null, false],
  ])('hasNullMember(%j) is %s', (value, expected) => {
    expect(hasNullMember(value)).toBe(expected);
  });
});
