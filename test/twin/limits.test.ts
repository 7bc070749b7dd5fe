import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/modules/twin/json.js';
import { jsonByteSize, jsonDepth, jsonEqual, isJsonValue } from '../../src/modules/twin/json.js';
import {
  checkTwinDocument,
  DEFAULT_TWIN_LIMITS,
  MAX_PATH_ISSUES,
  type TwinIssueCode,
} from '../../src/modules/twin/limits.js';

/** `depth` nested objects in total (the top-level object counts), ending in `{ leaf: 1 }`. */
function objectsOfDepth(depth: number): JsonValue {
  let value: JsonValue = { leaf: 1 };
  for (let i = depth - 1; i >= 1; i -= 1) value = { [`k${i}`]: value };
  return value;
}

/** `depth` nested arrays around the number 1. */
function arraysOfDepth(depth: number): JsonValue {
  let value: JsonValue = 1;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
}

const codes = (doc: unknown, limits = {}): TwinIssueCode[] =>
  checkTwinDocument(doc, limits, 'desired').map((issue) => issue.code);

describe('json helpers', () => {
  it.each<[JsonValue, number]>([
    [1, 0],
    [null, 0],
    [{}, 1],
    [[], 1],
    [{ a: 1 }, 1],
    [{ a: { b: 1 } }, 2],
    [{ a: [[{ b: 1 }]] }, 4],
    [objectsOfDepth(11), 11],
  ])('jsonDepth(%j) = %i', (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it.each<[JsonValue, number]>([
    [{}, 2],
    [{ a: 'x' }, 9],
    [{ a: 'é' }, 10],
    [{ a: '€' }, 11],
    [{ a: '🔑' }, 12],
    [{ 'ключ': 1 }, 14],
    ['\n', 4],
    ['\ud800', 8],
  ])('jsonByteSize(%j) = %i', (value, bytes) => {
    expect(jsonByteSize(value)).toBe(bytes);
  });

  it.each<[string, JsonValue, JsonValue, boolean]>([
    ['key order ignored', { a: 1, b: 2 }, { b: 2, a: 1 }, true],
    ['array order matters', [1, 2], [2, 1], false],
    ['nested arrays of objects', [{ a: [1, { b: null }] }], [{ a: [1, { b: null }] }], true],
    ['null vs missing', { a: null }, {}, false],
    ['extra key', { a: 1 }, { a: 1, b: 1 }, false],
    ['same size different keys', { a: 1 }, { b: 1 }, false],
    ['object vs array', {}, [], false],
    ['number vs string', 1, '1', false],
    ['zero vs negative zero', 0, -0, true],
  ])('jsonEqual: %s', (_name, a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });

  it('jsonEqual ignores inherited properties', () => {
    // Reading b["__proto__"] would find Object.prototype, which looks like an empty object.
    const ownProto = JSON.parse('{"__proto__":{}}') as JsonValue;
    expect(jsonEqual(ownProto, { other: {} })).toBe(false);
    expect(jsonEqual(ownProto, JSON.parse('{"__proto__":{}}') as JsonValue)).toBe(true);
  });
});

describe('checkTwinDocument', () => {
  it('exposes the documented defaults', () => {
    expect(DEFAULT_TWIN_LIMITS).toEqual({ maxDocumentBytes: 32768, maxDepth: 10, maxPathLength: 512 });
  });

  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const shared = { x: 1 };

  it.each<[string, unknown, TwinIssueCode[]]>([
    ['empty object', {}, []],
    ['ordinary document', { cfg: { net: { apn: 'internet' } }, tags: ['a', 'b'] }, []],
    ['array at top level', [1, 2], ['NOT_AN_OBJECT']],
    ['null at top level', null, ['NOT_AN_OBJECT']],
    ['string at top level', 'x', ['NOT_AN_OBJECT']],
    ['undefined member', { a: undefined }, ['NOT_JSON']],
    ['NaN member', { a: Number.NaN }, ['NOT_JSON']],
    ['Infinity in array', { a: [Infinity] }, ['NOT_JSON']],
    ['Date member', { a: new Date(0) }, ['NOT_JSON']],
    ['function member', { a: () => 1 }, ['NOT_JSON']],
    ['cycle', cyclic, ['NOT_JSON']],
    ['shared (non-cyclic) subtree is fine', { a: shared, b: shared }, []],
    ['depth 10 is allowed', objectsOfDepth(10), []],
    ['depth 11 is too deep', objectsOfDepth(11), ['TOO_DEEP']],
    ['arrays count as levels', { a: arraysOfDepth(10) }, ['TOO_DEEP']],
    ['array nesting within limit', { a: arraysOfDepth(9) }, []],
  ])('%s', (_name, doc, expected) => {
    expect(codes(doc)).toEqual(expected);
  });

  it('reports where the document gets too deep, headed by which document it is', () => {
    const issues = checkTwinDocument(objectsOfDepth(12), {}, 'reported');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: 'TOO_DEEP',
      path: ['reported', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10'],
    });
    expect(issues[0]!.message).toMatch(/^reported: .*10/);
  });

  it('survives absurd nesting without overflowing the stack', () => {
    let doc: JsonValue = 1;
    for (let i = 0; i < 100_000; i += 1) doc = { a: doc };
    expect(isJsonValue(doc)).toBe(true);
    expect(jsonDepth(doc)).toBe(100_000);
    const found = codes(doc);
    // TOO_LARGE may join it, depending on whether JSON.stringify copes with the nesting.
    expect(found[0]).toBe('TOO_DEEP');
    expect(found.filter((code) => code !== 'TOO_LARGE')).toEqual(['TOO_DEEP']);
  });

  it.each<[string, number, TwinIssueCode[]]>([
    ['exactly at the limit', 32768, []],
    ['one byte over', 32769, ['TOO_LARGE']],
  ])('size %s', (_name, bytes, expected) => {
    const overhead = jsonByteSize({ s: '' });
    expect(codes({ s: 'x'.repeat(bytes - overhead) })).toEqual(expected);
  });

  it.each<[string, string, number, TwinIssueCode[]]>([
    ['ASCII fits', 'a', 100, []],
    ['2-byte chars counted as 2', 'é', 60, ['TOO_LARGE']],
    ['4-byte emoji counted as 4', '🔑', 30, ['TOO_LARGE']],
  ])('unicode size: %s', (_name, char, count, expected) => {
    // `{"s":""}` is 8 bytes, so 100 bytes of payload fits a 110-byte limit, 120 does not.
    expect(codes({ s: char.repeat(count) }, { maxDocumentBytes: 110 })).toEqual(expected);
  });

  it.each<[string, JsonValue, number, TwinIssueCode[]]>([
    ['path at the limit', { abc: { de: 1 } }, 6, []],
    ['path one over', { abc: { def: 1 } }, 6, ['PATH_TOO_LONG']],
    ['escaped key length counts quoting', { 'a.b': 1 }, 7, []],
    ['escaped key one over', { 'a.b': 1 }, 6, ['PATH_TOO_LONG']],
    ['keys inside arrays are not paths', { a: [{ 'very-long-key-name': 1 }] }, 3, []],
  ])('%s', (_name, doc, maxPathLength, expected) => {
    expect(codes(doc, { maxPathLength })).toEqual(expected);
  });

  it('lists long paths with their keys, capped', () => {
    const doc: Record<string, JsonValue> = {};
    for (let i = 0; i < 25; i += 1) doc[`key-number-${i}`] = 1;
    const issues = checkTwinDocument(doc, { maxPathLength: 5 }, 'desired');
    expect(issues).toHaveLength(MAX_PATH_ISSUES);
    expect(issues[0]).toMatchObject({ code: 'PATH_TOO_LONG', path: ['desired', 'key-number-0'] });
  });

  it('reports several problems at once', () => {
    const doc = { deep: objectsOfDepth(3), ['x'.repeat(20)]: 'y'.repeat(50) };
    const issues = checkTwinDocument(doc, { maxDepth: 2, maxPathLength: 10, maxDocumentBytes: 40 }, 'desired');
    expect(issues.map((issue) => [issue.code, issue.path])).toEqual([
      ['TOO_DEEP', ['desired', 'deep', 'k1']],
      ['PATH_TOO_LONG', ['desired', 'x'.repeat(20)]],
      ['TOO_LARGE', ['desired']],
    ]);
  });
});
