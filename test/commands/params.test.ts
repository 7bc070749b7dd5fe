import { describe, expect, test } from 'vitest';
import { checkCommandParams } from '../../src/modules/commands/params.js';

const limits = { maxBytes: 64, maxDepth: 3 };
const path = ['input', 'params'];

describe('checkCommandParams', () => {
  const cases: Array<[string, unknown, Array<{ code: string; path: string[] }>]> = [
    ['an empty object', {}, []],
    ['flat values', { a: 1, b: 'x', c: true, d: null }, []],
    ['depth at the limit (object, object, array)', { a: { b: [1] } }, []],
    ['an array', [1], [{ code: 'INVALID_TYPE', path }]],
    ['a string', 'x', [{ code: 'INVALID_TYPE', path }]],
    ['null', null, [{ code: 'INVALID_TYPE', path }]],
    ['too deep', { a: { b: { c: {} } } }, [{ code: 'TOO_DEEP', path: [...path, 'a', 'b', 'c'] }]],
    ['too deep in an array', { a: [[[1]]] }, [{ code: 'TOO_DEEP', path: [...path, 'a', '0', '0'] }]],
    ['too large', { blob: 'x'.repeat(100) }, [{ code: 'TOO_BIG', path }]],
    ['a __proto__ key', JSON.parse('{"a":{"__proto__":{"x":1}}}'), [{ code: 'FORBIDDEN_KEY', path: [...path, 'a', '__proto__'] }]],
    ['a non-finite number', { n: Number.POSITIVE_INFINITY }, [{ code: 'INVALID_VALUE', path: [...path, 'n'] }]],
    ['a non-JSON value', { when: new Date(0) }, [{ code: 'INVALID_TYPE', path: [...path, 'when'] }]],
    ['a function', { f: () => 1 }, [{ code: 'INVALID_TYPE', path: [...path, 'f'] }]],
  ];
  test.each(cases)('%s', (_name, params, expected) => {
    expect(checkCommandParams(params, limits, path).map(({ code, path: at }) => ({ code, path: at }))).toEqual(expected);
  });

  test('a hostile depth does not overflow the stack', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let level = 0; level < 100_000; level += 1) deep = deep['a'] = {};
    expect(checkCommandParams(root, { maxBytes: 1e9, maxDepth: 8 }, path)[0]?.code).toBe('TOO_DEEP');
  });
});
