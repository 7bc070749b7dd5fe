import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { decodePayload as decodeWith, type DecodeFailureReason, type DecodeOptions } from '../../src/mqtt/codec.js';
import { commandAckPayloadSchema } from '../../src/modules/commands/payloads.js';
import { heartbeatPayloadSchema, statusPayloadSchema } from '../../src/modules/connectivity/payloads.js';
import { normalizeMac } from '../../src/modules/links/mac.js';
import { wirelessRegistrationsPayloadSchema } from '../../src/modules/links/payloads.js';
import { telemetryPayloadSchema } from '../../src/modules/telemetry/payloads.js';
import { twinReportedPayloadSchema } from '../../src/modules/twin/payloads.js';

/** Every payload schema the modules declare, by the kind of the topic it belongs to. */
const schemas = {
  status: statusPayloadSchema,
  heartbeat: heartbeatPayloadSchema,
  telemetry: telemetryPayloadSchema,
  twinReported: twinReportedPayloadSchema,
  commandAck: commandAckPayloadSchema,
  wirelessRegistrations: wirelessRegistrationsPayloadSchema,
};
type InboundKind = keyof typeof schemas;
const INBOUND_KINDS = Object.keys(schemas) as InboundKind[];

function decodePayload<K extends InboundKind>(kind: K, payload: Uint8Array, options?: DecodeOptions) {
  return decodeWith(schemas[kind] as unknown as z.ZodType<z.output<(typeof schemas)[K]>, unknown>, payload, options);
}

const bytes = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
/** A wireless poll of radio wlan0 listing `stations`. */
const poll = (stations: unknown[]) => ({ pollId: 7, interface: 'wlan0', ts: '2026-01-01T00:00:00.000Z', stations });

function failure(kind: InboundKind, payload: Buffer, maxBytes?: number): DecodeFailureReason | 'OK' {
  const result = decodePayload(kind, payload, maxBytes === undefined ? {} : { maxBytes });
  return result.ok ? 'OK' : result.reason;
}

describe('decodePayload: valid payloads', () => {
  it('decodes status with ISO and epoch timestamps', () => {
    const iso = decodePayload('status', bytes({ state: 'online', sessionId: 's1', ts: '2025-01-02T03:04:05.000Z' }));
    expect(iso).toEqual({ ok: true, value: { state: 'online', sessionId: 's1', ts: new Date('2025-01-02T03:04:05.000Z') } });
    const epoch = decodePayload('status', bytes({ state: 'offline', ts: 1_700_000_000_000 }));
    expect(epoch.ok && epoch.value.ts?.getTime()).toBe(1_700_000_000_000);
  });

  it('strips unknown heartbeat fields', () => {
    const result = decodePayload('heartbeat', bytes({ uptimeS: 12, cpu: 0.5, ts: 5 }));
    expect(result).toEqual({ ok: true, value: { uptimeS: 12, ts: new Date(5) } });
  });

  it('decodes telemetry: a single reading is a batch of one; numbers, booleans and strings', () => {
    const result = decodePayload('telemetry', bytes({ metrics: { 'temp.c': 21.5, rssi_dbm: -60, door: true, mode: 'eco' } }));
    expect(result).toEqual({ ok: true, value: [{ metrics: { 'temp.c': 21.5, rssi_dbm: -60, door: true, mode: 'eco' } }] });
  });

  it('decodes a telemetry batch', () => {
    const result = decodePayload('telemetry', bytes([{ ts: 1_000, metrics: { t: 1 } }, { ts: '2025-01-02T03:04:05Z', metrics: { t: 2 } }]));
    expect(result).toEqual({ ok: true, value: [{ ts: new Date(1_000), metrics: { t: 1 } }, { ts: new Date('2025-01-02T03:04:05Z'), metrics: { t: 2 } }] });
  });

  it('defaults twin reported mode to merge and keeps nested state', () => {
    const result = decodePayload('twinReported', bytes({ state: { fw: { version: '1.2' }, leds: [1, null] }, seq: 3 }));
    expect(result).toEqual({ ok: true, value: { state: { fw: { version: '1.2' }, leds: [1, null] }, mode: 'merge', seq: 3 } });
  });

  it('decodes a command ack', () => {
    expect(decodePayload('commandAck', bytes({ status: 'failed', error: 'busy' }))).toEqual({
      ok: true,
      value: { status: 'failed', error: 'busy' },
    });
  });

  it('normalises station MACs in wireless registrations', () => {
    const result = decodePayload(
      'wirelessRegistrations',
      bytes(poll([{ mac: 'AA-BB-CC-00-11-22', signalDbm: -61, ccq: 98 }, { mac: 'aabb.cc00.1122' }, { mac: 'AABBCC001122' }])),
    );
    expect(result.ok && result.value.stations.map((station) => station.mac)).toEqual(['aa:bb:cc:00:11:22', 'aa:bb:cc:00:11:22', 'aa:bb:cc:00:11:22']);
  });

  it('decodes a full wireless poll', () => {
    const station = { mac: '00:11:22:33:44:55', signalDbm: -61.5, snrDb: 32, noiseDbm: -95, txRateMbps: 300, rxRateMbps: 270, ccq: 98, uptimeS: 86_400 };
    expect(decodePayload('wirelessRegistrations', bytes(poll([station, { mac: '00:11:22:33:44:56', signalDbm: null }])))).toEqual({
      ok: true,
      value: { pollId: 7, interface: 'wlan0', ts: new Date('2026-01-01T00:00:00.000Z'), stations: [station, { mac: '00:11:22:33:44:56', signalDbm: null }] },
    });
  });
});

describe('decodePayload: typed failures', () => {
  it.each<[string, InboundKind, Buffer, DecodeFailureReason]>([
    ['invalid UTF-8', 'status', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'NOT_UTF8'],
    ['empty payload', 'status', Buffer.alloc(0), 'NOT_JSON'],
    ['truncated JSON', 'status', bytes('{"state":"onl'), 'NOT_JSON'],
    ['wrong state', 'status', bytes({ state: 'maybe' }), 'INVALID'],
    ['array instead of object', 'status', bytes([{ state: 'online' }]), 'INVALID'],
    ['bad timestamp', 'status', bytes({ state: 'online', ts: 'yesterday' }), 'INVALID'],
    ['object as a metric value', 'telemetry', bytes({ metrics: { t: { v: 21 } } }), 'INVALID'],
    ['telemetry batch entry without ts', 'telemetry', bytes([{ metrics: { t: 1 } }]), 'INVALID'],
    ['infinite metric (1e400)', 'telemetry', bytes('{"metrics":{"t":1e400}}'), 'INVALID'],
    ['bad metric name', 'telemetry', bytes({ metrics: { 'a b': 1 } }), 'INVALID'],
    ['too many metrics', 'telemetry', bytes({ metrics: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`m${i}`, i])) }), 'INVALID'],
    ['twin state that is an array', 'twinReported', bytes({ state: [1] }), 'INVALID'],
    ['unknown twin mode', 'twinReported', bytes({ state: {}, mode: 'patch' }), 'INVALID'],
    ['ack without status', 'commandAck', bytes({ result: {} }), 'INVALID'],
    ['bad MAC', 'wirelessRegistrations', bytes(poll([{ mac: 'zz:zz:zz:zz:zz:zz' }])), 'INVALID'],
    ['too many stations', 'wirelessRegistrations', bytes(poll(Array.from({ length: 1025 }, () => ({ mac: '001122334455' })))), 'INVALID'],
    ['poll without pollId', 'wirelessRegistrations', bytes({ ...poll([]), pollId: undefined }), 'INVALID'],
    ['negative pollId', 'wirelessRegistrations', bytes({ ...poll([]), pollId: -1 }), 'INVALID'],
    ['fractional pollId', 'wirelessRegistrations', bytes({ ...poll([]), pollId: 1.5 }), 'INVALID'],
    ['poll without interface', 'wirelessRegistrations', bytes({ ...poll([]), interface: '' }), 'INVALID'],
    ['interface with a space', 'wirelessRegistrations', bytes({ ...poll([]), interface: 'wlan 0' }), 'INVALID'],
    ['poll without ts', 'wirelessRegistrations', bytes({ ...poll([]), ts: undefined }), 'INVALID'],
    ['signal out of range', 'wirelessRegistrations', bytes(poll([{ mac: '001122334455', signalDbm: 400 }])), 'INVALID'],
    ['ccq above 100', 'wirelessRegistrations', bytes(poll([{ mac: '001122334455', ccq: 101 }])), 'INVALID'],
    ['negative rate', 'wirelessRegistrations', bytes(poll([{ mac: '001122334455', txRateMbps: -1 }])), 'INVALID'],
    ['stations not a list', 'wirelessRegistrations', bytes({ ...poll([]), stations: { mac: '001122334455' } }), 'INVALID'],
    ['__proto__ key', 'twinReported', bytes('{"state":{"__proto__":{"polluted":true}}}'), 'INVALID'],
    ['escaped __proto__ key', 'twinReported', bytes('{"state":{"\\u005f_proto__":{"polluted":true}}}'), 'INVALID'],
    ['__proto__ metric', 'telemetry', bytes('{"metrics":{"__proto__":1}}'), 'INVALID'],
    ['NUL in a twin value (PostgreSQL cannot store it)', 'twinReported', bytes('{"state":{"note":"a\\u0000b"}}'), 'INVALID'],
    ['deep nesting', 'twinReported', bytes(`{"state":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`), 'INVALID'],
  ])('%s → %s', (_label, kind, payload, reason) => {
    const result = decodePayload(kind, payload);
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.reason).toBe(reason);
    expect(result.ok ? '' : result.detail).not.toBe('');
  });

  it('refuses oversize payloads before decoding them', () => {
    expect(failure('telemetry', Buffer.alloc(2048, 0xff), 1024)).toBe('TOO_LARGE');
    expect(failure('telemetry', bytes({ metrics: { a: 1 } }), 1024)).toBe('OK');
  });

  it('does not count brackets inside strings towards depth', () => {
    const state = { note: '['.repeat(500) + '\\"{{{' };
    expect(failure('twinReported', bytes({ state }))).toBe('OK');
  });

  it('leaves Object.prototype untouched', () => {
    decodePayload('twinReported', bytes('{"state":{"__proto__":{"polluted":true}},"constructor":{"prototype":{"x":1}}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('normalizeMac', () => {
  it.each([
    ['AA:BB:CC:DD:EE:FF', 'aa:bb:cc:dd:ee:ff'],
    ['aa-bb-cc-dd-ee-ff', 'aa:bb:cc:dd:ee:ff'],
    ['aabb.ccdd.eeff', 'aa:bb:cc:dd:ee:ff'],
    ['AABBCCDDEEFF', 'aa:bb:cc:dd:ee:ff'],
    ['aa:bb-cc:dd:ee:ff', null],
    ['aa:bb:cc:dd:ee', null],
    ['aa:bb:cc:dd:ee:ff:00', null],
    ['', null],
  ])('%s → %s', (input, expected) => {
    expect(normalizeMac(input)).toBe(expected);
  });
});

// Deterministic PRNG so a failure reproduces (mulberry32).
function rng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodePayload: fuzz', () => {
  it('never throws on 1,000 generated garbage payloads and always gives a reason', () => {
    const random = rng(0xc0ffee);
    const int = (n: number) => Math.floor(random() * n);
    const valid = [
      { state: 'online', ts: 1 },
      { metrics: { a: 1, b: 2 } },
      { state: { a: { b: [1, 2] } }, mode: 'replace' },
      { status: 'delivered', result: { ok: true } },
      poll([{ mac: '00:11:22:33:44:55', signalDbm: -50 }]),
    ];
    const generators: Array<() => Buffer> = [
      () => Buffer.from(Array.from({ length: int(512) }, () => int(256))),
      () => {
        const text = JSON.stringify(valid[int(valid.length)]);
        return Buffer.from(text.slice(0, int(text.length)));
      },
      () => bytes('['.repeat(1 + int(100_000))),
      () => bytes(`${'{"a":'.repeat(1 + int(5000))}1${'}'.repeat(int(5000))}`),
      () => bytes({ state: 'x'.repeat(int(300_000)) }),
      () => bytes([null, true, 1, 'str', [], {}][int(6)]),
      () => bytes(`{"metrics":{"__proto__":${int(9)},"constructor":2,"prototype":3}}`),
      () => bytes(`{"__proto__":{"isAdmin":true},"state":{"constructor":{"prototype":{"x":${int(9)}}}}}`),
      () => bytes({ state: 'online', metrics: [int(9)], stations: { mac: int(9) }, status: int(9) }),
      () => bytes(`{"metrics":{"a":1e${int(800)}},"ts":-${int(1e9)}}`),
      () => bytes(`"${'\\u'.repeat(int(50))}"`),
      () => Buffer.from([0xef, 0xbb, 0xbf, ...bytes({ state: 'online' })]),
      () => bytes(JSON.stringify(valid[int(valid.length)]).replace(/[0-9a-z]/g, (c) => (random() < 0.1 ? '"' : c))),
    ];
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const payload = generators[i % generators.length]?.() ?? Buffer.alloc(0);
      const kind = INBOUND_KINDS[int(INBOUND_KINDS.length)] ?? 'status';
      let result: ReturnType<typeof decodeWith> | undefined;
      expect(() => {
        result = decodePayload(kind, payload, { maxBytes: 256 * 1024 });
      }).not.toThrow();
      if (result && !result.ok) {
        expect(['TOO_LARGE', 'NOT_UTF8', 'NOT_JSON', 'INVALID']).toContain(result.reason);
        expect(typeof result.detail).toBe('string');
        seen.add(result.reason);
      }
    }
    // The generators are varied enough to hit every failure class.
    expect([...seen].sort()).toEqual(['INVALID', 'NOT_JSON', 'NOT_UTF8', 'TOO_LARGE']);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('does not throw for non-byte input from untyped callers', () => {
    const result = decodePayload('status', 'not a buffer' as unknown as Uint8Array);
    expect(result).toMatchObject({ ok: false, reason: 'INVALID' });
  });
});
