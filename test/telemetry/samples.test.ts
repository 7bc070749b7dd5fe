import { describe, expect, it } from 'vitest';
import { decodePayload } from '../../src/mqtt/codec.js';
import { parseBucket, historyRequestSchema } from '../../src/modules/telemetry/history.js';
import { MAX_ENTRIES_PER_BATCH, MAX_METRICS_PER_ENTRY, telemetryPayloadSchema } from '../../src/modules/telemetry/payloads.js';
import { numericValue, samplesOf, timestampRejection, valueColumns } from '../../src/modules/telemetry/samples.js';

const decode = (value: unknown) => decodePayload(telemetryPayloadSchema, Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

describe('telemetry payloads', () => {
  it('decodes a single reading into a batch of one, values of every type', () => {
    const result = decode({ ts: 1_700_000_000_000, metrics: { t: 21.5, door_open: true, mode: 'eco' } });
    expect(result).toEqual({ ok: true, value: [{ ts: new Date(1_700_000_000_000), metrics: { t: 21.5, door_open: true, mode: 'eco' } }] });
  });

  it('decodes a batch, each entry with its own timestamp', () => {
    const result = decode([
      { ts: '2026-01-01T00:00:00Z', metrics: { t: 1 } },
      { ts: '2026-01-01T00:01:00Z', metrics: { t: 2 } },
    ]);
    expect(result.ok && result.value.map((entry) => [entry.ts?.toISOString(), entry.metrics['t']])).toEqual([
      ['2026-01-01T00:00:00.000Z', 1],
      ['2026-01-01T00:01:00.000Z', 2],
    ]);
  });

  it.each<[string, unknown, RegExp]>([
    ['bad metric name', { metrics: { 'a b': 1 } }, /metric name #1 must match/],
    ['empty metric name', { metrics: { ok: 1, '': 1 } }, /metric name #2 must match/],
    ['metric name too long (not echoed)', { metrics: { ['m'.repeat(65)]: 1 } }, /^metrics: metric name #1/],
    ['null value', { metrics: { t: null } }, /metrics\.t/],
    ['object value', { metrics: { t: { v: 1 } } }, /metrics\.t/],
    ['string too long', { metrics: { t: 'x'.repeat(1025) } }, /metrics\.t/],
    ['infinite value (1e400)', '{"metrics":{"t":1e400}}', /metrics\.t/],
    ['no metrics', { metrics: {} }, /at least one metric/],
    ['too many metrics', { metrics: Object.fromEntries(Array.from({ length: MAX_METRICS_PER_ENTRY + 1 }, (_, i) => [`m${i}`, i])) }, /at most 256 metrics/],
    ['batch entry without ts', [{ metrics: { t: 1 } }], /0\.ts/],
    ['empty batch', [], /empty batch/],
    ['batch too long', Array.from({ length: MAX_ENTRIES_PER_BATCH + 1 }, () => ({ ts: 1, metrics: { t: 1 } })), /at most 1000 entries/],
    [
      'too many samples in a batch',
      Array.from({ length: 50 }, (_, i) => ({ ts: i, metrics: Object.fromEntries(Array.from({ length: 201 }, (_, j) => [`m${j}`, j])) })),
      /at most 10000 samples/,
    ],
    ['bad timestamp', { ts: 'yesterday', metrics: { t: 1 } }, /ts/],
    ['a number instead of an object', 42, /root/],
    ['__proto__ as a metric name', '{"metrics":{"__proto__":1}}', /__proto__/],
  ])('refuses %s, saying where', (_label, payload, detail) => {
    const result = decode(payload);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.detail).toMatch(detail);
  });
});

describe('sample timestamps and rows', () => {
  const receivedAt = new Date('2026-06-01T12:00:00Z');
  const window = { maxAgeSeconds: 3600, maxFutureSeconds: 60 };
  it.each<[string, Date | undefined, string | null]>([
    ['no ts (stamped on receipt)', undefined, null],
    ['just inside the past bound', new Date(receivedAt.getTime() - 3600_000), null],
    ['too old', new Date(receivedAt.getTime() - 3600_001), 'TIMESTAMP_TOO_OLD'],
    ['a clock never set (1970)', new Date(0), 'TIMESTAMP_TOO_OLD'],
    ['just inside the future bound', new Date(receivedAt.getTime() + 60_000), null],
    ['too far ahead', new Date(receivedAt.getTime() + 60_001), 'TIMESTAMP_IN_FUTURE'],
  ])('%s', (_label, ts, expected) => {
    expect(timestampRejection([{ ts, metrics: { t: 1 } }], receivedAt, window)).toBe(expected);
  });

  it('one bad entry refuses the whole batch', () => {
    expect(timestampRejection([{ ts: receivedAt, metrics: { t: 1 } }, { ts: new Date(0), metrics: { t: 1 } }], receivedAt, window)).toBe('TIMESTAMP_TOO_OLD');
  });

  it('turns entries into samples, stamping those without ts with the receive time', () => {
    const key = { tenantId: 't', deviceId: 'd' };
    expect(samplesOf(key, [{ metrics: { a: 1, b: 'x' } }, { ts: new Date(5), metrics: { a: false } }], receivedAt)).toEqual([
      { ...key, metric: 'a', time: receivedAt, value: 1 },
      { ...key, metric: 'b', time: receivedAt, value: 'x' },
      { ...key, metric: 'a', time: new Date(5), value: false },
    ]);
  });

  it.each<[number | boolean | string, ReturnType<typeof valueColumns>, number | null]>([
    [2.5, { num: 2.5, bool: null, text: null }, 2.5],
    [0, { num: 0, bool: null, text: null }, 0],
    [true, { num: null, bool: true, text: null }, 1],
    [false, { num: null, bool: false, text: null }, 0],
    ['on', { num: null, bool: null, text: 'on' }, null],
  ])('%j is stored in its column and evaluates as %j', (value, columns, numeric) => {
    expect(valueColumns(value)).toEqual(columns);
    expect(numericValue(value)).toBe(numeric);
  });
});

describe('history requests', () => {
  it.each<[string, number | null]>([
    ['1 minute', 60],
    ['5 minutes', 300],
    ['30 seconds', 30],
    ['1 hour', 3600],
    ['2 Hours', 7200],
    ['1 day', 86_400],
    ['1 week', 604_800],
    ['1 month', null],
    ['0 minutes', null],
    ['minute', null],
    ['1.5 hours', null],
    ['367 days', null],
    ['1 minute; DROP TABLE telemetry', null],
  ])('bucket %j → %j seconds', (text, seconds) => {
    expect(parseBucket(text)).toBe(seconds);
  });

  const base = { metric: 't', from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z'), bucket: '1 minute', aggregate: 'avg' };
  it.each<[string, Partial<typeof base>, string | null]>([
    ['a day of minutes (1,440 buckets)', {}, null],
    ['to before from', { to: new Date('2025-12-31T00:00:00Z') }, 'to'],
    ['more than 10,000 buckets', { bucket: '5 seconds' }, 'bucket'],
    ['a window over 400 days', { from: new Date('2024-01-01T00:00:00Z'), bucket: '1 day' }, 'from'],
    ['a bad bucket', { bucket: 'often' }, 'bucket'],
    ['a bad metric name', { metric: 'a b' }, 'metric'],
  ])('%s', (_label, patch, issuePath) => {
    const result = historyRequestSchema.safeParse({ ...base, ...patch });
    if (issuePath === null) expect(result.success).toBe(true);
    else expect(result.success ? [] : result.error.issues.map((issue) => issue.path[0])).toContain(issuePath);
  });
});
