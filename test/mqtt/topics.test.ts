import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applied, type AnyInboundTopic, type OutboundTopic } from '../../src/mqtt/ingest.js';
import { createTopicTable, deviceTopicPrefix, idSchema, isValidId, serviceMayPublish, serviceMaySubscribe } from '../../src/mqtt/topics.js';
import { buildTopic, topics } from '../harness/topics.js';

const inbound = (kind: string, topic: string) =>
  ({ kind, topic, payload: z.unknown(), description: kind, handle: async () => applied }) as unknown as AnyInboundTopic;
const outbound = (kind: string, topic: string): OutboundTopic => ({ kind, topic, qos: 1, retain: false, description: kind });

/** The whole device protocol, as the modules declare it (docs/device-protocol.md). */
const table = createTopicTable(
  [
    inbound('status', 'status'),
    inbound('heartbeat', 'heartbeat'),
    inbound('telemetry', 'telemetry'),
    inbound('twinReported', 'twin/reported'),
    inbound('commandAck', 'commands/{commandId}/ack'),
    inbound('wirelessRegistrations', 'wireless/registrations'),
  ],
  [outbound('twinDesired', 'twin/desired'), outbound('command', 'commands/{commandId}')],
);
const { deviceMayPublish, deviceMaySubscribe, ingestSubscriptions } = table;
const parseDeviceTopic = (topic: string) => {
  const parsed = table.parse(topic);
  if (!parsed.ok) return parsed;
  const { direction: _direction, params, ...rest } = parsed;
  return { ...rest, ...params };
};

describe('createTopicTable', () => {
  it('refuses a kind declared twice and patterns that overlap', () => {
    expect(() => createTopicTable([inbound('a', 'x'), inbound('a', 'y')], [])).toThrow(/declared twice/);
    expect(() => createTopicTable([inbound('a', 'x/{id}')], [outbound('b', 'x/y')])).toThrow(/overlap/);
    expect(() => createTopicTable([inbound('a', 'X Y')], [])).toThrow(/neither a literal/);
  });
  it('the running table holds every module topic', () => {
    expect(topics.inbound.map((topic) => topic.kind)).toEqual(expect.arrayContaining(['status', 'heartbeat', 'twinReported']));
    expect(topics.outbound.map((topic) => topic.kind)).toEqual(expect.arrayContaining(['twinDesired']));
    expect(topics.parse('pulse/t1/d1/twin/desired')).toMatchObject({ ok: true, direction: 'outbound', kind: 'twinDesired' });
  });
});

describe('idPattern / isValidId', () => {
  it.each(['a', 'A1', 'dev-01', 'tenant.eu:prod_1', '0', 'x'.repeat(128)])('accepts %s', (id) => {
    expect(isValidId(id)).toBe(true);
    expect(idSchema.safeParse(id).success).toBe(true);
  });
  it.each(['', '-a', '.a', '$SYS', 'a/b', 'a+b', 'a#', 'a b', 'é', 'x'.repeat(129), '_a'])('refuses %j', (id) => {
    expect(isValidId(id)).toBe(false);
    expect(idSchema.safeParse(id).success).toBe(false);
  });
  it('refuses non-strings', () => {
    expect(isValidId(42)).toBe(false);
    expect(isValidId(undefined)).toBe(false);
  });
});

describe('buildTopic', () => {
  it('builds every kind under the device prefix', () => {
    expect(deviceTopicPrefix('t1', 'd1')).toBe('pulse/t1/d1/');
    expect(buildTopic.status('t1', 'd1')).toBe('pulse/t1/d1/status');
    expect(buildTopic.heartbeat('t1', 'd1')).toBe('pulse/t1/d1/heartbeat');
    expect(buildTopic.telemetry('t1', 'd1')).toBe('pulse/t1/d1/telemetry');
    expect(buildTopic.twinReported('t1', 'd1')).toBe('pulse/t1/d1/twin/reported');
    expect(buildTopic.twinDesired('t1', 'd1')).toBe('pulse/t1/d1/twin/desired');
    expect(buildTopic.command('t1', 'd1', 'c-9')).toBe('pulse/t1/d1/commands/c-9');
    expect(buildTopic.commandAck('t1', 'd1', 'c-9')).toBe('pulse/t1/d1/commands/c-9/ack');
    expect(buildTopic.wirelessRegistrations('t1', 'd1')).toBe('pulse/t1/d1/wireless/registrations');
  });
  it('throws on IDs that would change the topic structure', () => {
    expect(() => buildTopic.status('t1/x', 'd1')).toThrow(TypeError);
    expect(() => buildTopic.telemetry('t1', '+')).toThrow(TypeError);
    expect(() => buildTopic.command('t1', 'd1', '#')).toThrow(TypeError);
  });
});

describe('parseDeviceTopic', () => {
  it.each([
    ['pulse/t1/d1/status', { kind: 'status' }],
    ['pulse/t1/d1/heartbeat', { kind: 'heartbeat' }],
    ['pulse/t1/d1/telemetry', { kind: 'telemetry' }],
    ['pulse/t1/d1/twin/reported', { kind: 'twinReported' }],
    ['pulse/t1/d1/twin/desired', { kind: 'twinDesired' }],
    ['pulse/t1/d1/commands/c1', { kind: 'command', commandId: 'c1' }],
    ['pulse/t1/d1/commands/c1/ack', { kind: 'commandAck', commandId: 'c1' }],
    ['pulse/t1/d1/wireless/registrations', { kind: 'wirelessRegistrations' }],
  ])('parses %s', (topic, expected) => {
    expect(parseDeviceTopic(topic)).toEqual({ ok: true, tenantId: 't1', deviceId: 'd1', ...expected });
  });

  it('round-trips every builder', () => {
    const topic = buildTopic.commandAck('acme:eu', 'ap.01', 'f3b2c1d0-0000-4000-8000-000000000000');
    expect(parseDeviceTopic(topic)).toEqual({
      ok: true,
      kind: 'commandAck',
      tenantId: 'acme:eu',
      deviceId: 'ap.01',
      commandId: 'f3b2c1d0-0000-4000-8000-000000000000',
    });
  });

  it.each([
    ['other/t1/d1/status', 'NOT_PULSE_TOPIC'],
    ['pulse', 'NOT_PULSE_TOPIC'],
    [`pulse/t1/d1/${'x'.repeat(1000)}`, 'NOT_PULSE_TOPIC'],
    ['pulse//d1/status', 'INVALID_TENANT_ID'],
    ['pulse/+/d1/status', 'INVALID_TENANT_ID'],
    ['pulse/t1/#', 'INVALID_DEVICE_ID'],
    ['pulse/t1', 'INVALID_DEVICE_ID'],
    ['pulse/t1/d1/commands/+', 'INVALID_COMMAND_ID'],
    ['pulse/t1/d1/commands//ack', 'INVALID_COMMAND_ID'],
    ['pulse/t1/d1', 'UNKNOWN_KIND'],
    ['pulse/t1/d1/', 'UNKNOWN_KIND'],
    ['pulse/t1/d1/status/extra', 'UNKNOWN_KIND'],
    ['pulse/t1/d1/twin', 'UNKNOWN_KIND'],
    ['pulse/t1/d1/constructor', 'UNKNOWN_KIND'],
    ['pulse/t1/d1/commands/c1/nack', 'UNKNOWN_KIND'],
  ])('refuses %s with %s', (topic, reason) => {
    expect(parseDeviceTopic(topic)).toEqual({ ok: false, reason });
  });
});

describe('ingestSubscriptions', () => {
  it('lists one filter per inbound kind', () => {
    expect(ingestSubscriptions()).toEqual([
      'pulse/+/+/status',
      'pulse/+/+/heartbeat',
      'pulse/+/+/telemetry',
      'pulse/+/+/twin/reported',
      'pulse/+/+/commands/+/ack',
      'pulse/+/+/wireless/registrations',
    ]);
  });
  it('uses $share/{group}/ forms for a shared group', () => {
    const filters = ingestSubscriptions('pulse-ingest');
    expect(filters).toHaveLength(6);
    expect(filters[0]).toBe('$share/pulse-ingest/pulse/+/+/status');
    expect(filters.every((filter: string) => filter.startsWith('$share/pulse-ingest/pulse/+/+/'))).toBe(true);
  });
  it('refuses group names that are not one plain level', () => {
    expect(() => ingestSubscriptions('a/b')).toThrow(TypeError);
    expect(() => ingestSubscriptions('+')).toThrow(TypeError);
    expect(() => ingestSubscriptions('')).toThrow(TypeError);
  });
});

describe('access rules', () => {
  it.each([
    ['pulse/t1/d1/status', true],
    ['pulse/t1/d1/heartbeat', true],
    ['pulse/t1/d1/telemetry', true],
    ['pulse/t1/d1/twin/reported', true],
    ['pulse/t1/d1/commands/c1/ack', true],
    ['pulse/t1/d1/wireless/registrations', true],
    ['pulse/t1/d1/twin/desired', false],
    ['pulse/t1/d1/commands/c1', false],
    ['pulse/t1/d2/telemetry', false],
    ['pulse/t2/d1/telemetry', false],
    ['pulse/t1/d1/other', false],
    ['$SYS/broker/x', false],
  ])('device t1/d1 publishing to %s: %s', (topic, allowed) => {
    expect(deviceMayPublish('t1', 'd1', topic)).toBe(allowed);
  });

  it.each([
    ['pulse/t1/d1/twin/desired', true],
    ['pulse/t1/d1/commands/#', true],
    ['pulse/t1/d1/commands/+', true],
    ['pulse/t1/d1/commands/c1', true],
    ['pulse/t1/d1/#', false],
    ['pulse/t1/d1/telemetry', false],
    ['pulse/t1/d1/commands/+/ack', false],
    ['pulse/t1/d1/commands/#/x', false],
    ['pulse/t1/d10/twin/desired', false],
    ['pulse/t1/+/twin/desired', false],
    ['pulse/+/d1/twin/desired', false],
    ['pulse/#', false],
    ['#', false],
    ['+/t1/d1/twin/desired', false],
    ['$share/g/pulse/t1/d1/twin/desired', false],
  ])('device t1/d1 subscribing to %s: %s', (filter, allowed) => {
    expect(deviceMaySubscribe('t1', 'd1', filter)).toBe(allowed);
  });

  it('never lets a principal with invalid IDs subscribe', () => {
    expect(deviceMaySubscribe('+', 'd1', 'pulse/+/d1/twin/desired')).toBe(false);
  });

  it('lets the service use pulse/ and nothing else', () => {
    expect(serviceMayPublish('pulse/t1/d1/twin/desired')).toBe(true);
    expect(serviceMayPublish('$SYS/x')).toBe(false);
    expect(serviceMayPublish('other/x')).toBe(false);
    expect(serviceMaySubscribe('pulse/+/+/telemetry')).toBe(true);
    expect(serviceMaySubscribe('pulse/#')).toBe(true);
    expect(serviceMaySubscribe('#')).toBe(false);
    expect(serviceMaySubscribe('+/+/+/telemetry')).toBe(false);
    expect(serviceMaySubscribe('$share/g/pulse/+/+/telemetry')).toBe(false);
    expect(serviceMaySubscribe('$SYS/#')).toBe(false);
  });
});
