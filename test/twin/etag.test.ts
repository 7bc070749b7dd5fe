import { describe, expect, it } from 'vitest';
import { etagMatches, parseEtag, twinEtag } from '../../src/modules/twin/etag.js';

describe('twinEtag', () => {
  it.each<[number, string]>([
    [0, '"0"'],
    [7, '"7"'],
    [123456, '"123456"'],
    [Number.MAX_SAFE_INTEGER, `"${Number.MAX_SAFE_INTEGER}"`],
  ])('%i -> %s and back', (version, etag) => {
    expect(twinEtag(version)).toBe(etag);
    expect(parseEtag(twinEtag(version))).toBe(version);
  });

  it.each([-1, 1.5, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER + 1])('rejects version %s', (version) => {
    expect(() => twinEtag(version)).toThrow(RangeError);
  });

  it('is stable and distinct per version', () => {
    expect(twinEtag(12)).toBe(twinEtag(12));
    expect(twinEtag(12)).not.toBe(twinEtag(1));
  });
});

describe('parseEtag', () => {
  it.each<[string, number]>([
    ['"7"', 7],
    ['W/"7"', 7],
    ['  "42"  ', 42],
    ['"0"', 0],
    ['"9007199254740991"', Number.MAX_SAFE_INTEGER],
  ])('accepts %s', (etag, version) => {
    expect(parseEtag(etag)).toBe(version);
  });

  it.each<string | null | undefined>([
    '',
    '7',
    '"07"',
    '"-1"',
    '"+1"',
    '"1.5"',
    '"1e3"',
    '"abc"',
    '"7',
    '7"',
    'w/"7"',
    'W/7',
    '*',
    '"1", "2"',
    '"9007199254740992"',
    '" 7"',
    null,
    undefined,
  ])('rejects %j', (etag) => {
    expect(parseEtag(etag)).toBeNull();
  });

  it.each<[string | null, number, boolean]>([
    ['"3"', 3, true],
    ['W/"3"', 3, true],
    ['"3"', 4, false],
    ['garbage', 3, false],
    [null, 0, false],
  ])('etagMatches(%j, %i) -> %s', (etag, version, expected) => {
    expect(etagMatches(etag, version)).toBe(expected);
  });
});
