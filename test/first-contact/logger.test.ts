import { describe, expect, test } from 'vitest';
import { formatLogLine, resolveLogFormat } from '../../src/logger.js';

const at = new Date(2026, 11, 2, 9, 5, 7, 42).getTime();
const entry = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time: at, service: 'pulse', ...fields });

describe('the terminal log format', () => {
  test.each([
    [entry({ msg: 'database ready' }), '09:05:07.042 INFO  database ready\n'],
    [entry({ level: 40, module: 'mqtt-broker', msg: 'device publish refused', deviceId: 'gw-1', topic: 'pulse/t/gw-1/x' }), '09:05:07.042 WARN  [mqtt-broker] device publish refused deviceId=gw-1 topic=pulse/t/gw-1/x\n'],
    [entry({ msg: 'subscribed', filters: ['a/+', 'b/#'], count: 2, ok: true }), '09:05:07.042 INFO  subscribed filters=a/+,b/# count=2 ok=true\n'],
    [entry({ msg: 'quoted', detail: 'has spaces', empty: '', nested: { a: 1 } }), '09:05:07.042 INFO  quoted detail="has spaces" empty="" nested={"a":1}\n'],
    [
      entry({ level: 50, msg: 'batch failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at run (a.ts:1:1)\n    at main (b.ts:2:2)' } }),
      '09:05:07.042 ERROR batch failed Error: boom\n    at run (a.ts:1:1)\n    at main (b.ts:2:2)\n',
    ],
    ['not json', 'not json\n'],
  ])('%s', (line, expected) => {
    expect(formatLogLine(line)).toBe(expected);
  });

  test('colours only when asked', () => {
    expect(formatLogLine(entry({ msg: 'x' }), true)).toContain('\u001b[32mINFO ');
    expect(formatLogLine(entry({ msg: 'x' }), false)).not.toContain('\u001b[');
  });
});

describe('LOG_FORMAT', () => {
  test.each([
    [{}, true, 'pretty'],
    [{}, false, 'json'],
    [{ LOG_FORMAT: 'json' }, true, 'json'],
    [{ LOG_FORMAT: 'pretty' }, false, 'pretty'],
    [{ LOG_FORMAT: '' }, false, 'json'],
  ] as const)('%j on a TTY %s: %s', (environment, tty, format) => {
    expect(resolveLogFormat(environment, tty)).toBe(format);
  });

  test('anything else is refused with the variable named', () => {
    expect(() => resolveLogFormat({ LOG_FORMAT: 'text' }, true)).toThrow('LOG_FORMAT: must be "json" or "pretty", got "text"');
  });
});
