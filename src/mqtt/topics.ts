/**
 * The MQTT topic scheme `pulse/{tenantId}/{deviceId}/...`: building, parsing, and the pure access
 * rules the embedded broker enforces. Everything that knows how a topic string is shaped lives here.
 */

/** First topic level of every Pulse topic. */
export const TOPIC_ROOT = 'pulse';

// IDs are one topic level each: the single definition lives in domain/ids.ts.
export { ID_PATTERN as idPattern, idSchema, isValidId } from '../domain/ids.js';
import { isValidId } from '../domain/ids.js';

/** Kinds a device publishes (device → server). */
export const INBOUND_KINDS = ['status', 'heartbeat', 'telemetry', 'twinReported', 'commandAck', 'wirelessRegistrations'] as const;
/** Kinds the server publishes (server → device). */
export const OUTBOUND_KINDS = ['twinDesired', 'command'] as const;

export type InboundKind = (typeof INBOUND_KINDS)[number];
export type OutboundKind = (typeof OUTBOUND_KINDS)[number];
export type TopicKind = InboundKind | OutboundKind;

/** A topic that parsed: which kind, whose, and for command topics which command. */
export type DeviceTopic =
  | { ok: true; kind: Exclude<TopicKind, 'command' | 'commandAck'>; tenantId: string; deviceId: string }
  | { ok: true; kind: 'command' | 'commandAck'; tenantId: string; deviceId: string; commandId: string };

export type TopicParseFailureReason =
  | 'NOT_PULSE_TOPIC'
  | 'INVALID_TENANT_ID'
  | 'INVALID_DEVICE_ID'
  | 'INVALID_COMMAND_ID'
  | 'UNKNOWN_KIND';

/** Why a topic is not a Pulse device topic; callers count and log it, never throw. */
export interface TopicParseFailure {
  ok: false;
  reason: TopicParseFailureReason;
}

// Longest valid topic: pulse/ + 3 IDs of 128 + "/commands/" + "/ack"; anything longer is refused
// before splitting so a 64 KiB topic name costs nothing.
const MAX_TOPIC_LENGTH = 6 + 3 * 128 + 2 + 10 + 4;

const FIXED_SUFFIXES: Readonly<Record<string, Exclude<TopicKind, 'command' | 'commandAck'>>> = {
  status: 'status',
  heartbeat: 'heartbeat',
  telemetry: 'telemetry',
  'twin/reported': 'twinReported',
  'twin/desired': 'twinDesired',
  'wireless/registrations': 'wirelessRegistrations',
};

function requireId(label: string, value: string): string {
  if (!isValidId(value)) throw new TypeError(`invalid ${label} for an MQTT topic: ${JSON.stringify(value)}`);
  return value;
}

/**
 * `pulse/{tenantId}/{deviceId}/`, with the trailing slash so that a `startsWith` check on it can
 * never confuse device `a` with device `ab`. Throws a `TypeError` for an invalid ID.
 */
export function deviceTopicPrefix(tenantId: string, deviceId: string): string {
  return `${TOPIC_ROOT}/${requireId('tenantId', tenantId)}/${requireId('deviceId', deviceId)}/`;
}

/**
 * Topic builders, one per kind. IDs are validated (a `TypeError` for a bad one is a programming
 * error: IDs are validated where they enter the system, so a topic is never built from junk).
 */
export const buildTopic = {
  status: (tenantId: string, deviceId: string): string => `${deviceTopicPrefix(tenantId, deviceId)}status`,
  heartbeat: (tenantId: string, deviceId: string): string => `${deviceTopicPrefix(tenantId, deviceId)}heartbeat`,
  telemetry: (tenantId: string, deviceId: string): string => `${deviceTopicPrefix(tenantId, deviceId)}telemetry`,
  twinReported: (tenantId: string, deviceId: string): string => `${deviceTopicPrefix(tenantId, deviceId)}twin/reported`,
  /** Server → device, published retained so a device gets its desired state on (re)subscribe. */
  twinDesired: (tenantId: string, deviceId: string): string => `${deviceTopicPrefix(tenantId, deviceId)}twin/desired`,
  /** Server → device, QoS 1. */
  command: (tenantId: string, deviceId: string, commandId: string): string =>
    `${deviceTopicPrefix(tenantId, deviceId)}commands/${requireId('commandId', commandId)}`,
  commandAck: (tenantId: string, deviceId: string, commandId: string): string =>
    `${deviceTopicPrefix(tenantId, deviceId)}commands/${requireId('commandId', commandId)}/ack`,
  wirelessRegistrations: (tenantId: string, deviceId: string): string =>
    `${deviceTopicPrefix(tenantId, deviceId)}wireless/registrations`,
} as const;

/** Parses a concrete topic name (no wildcards) into its kind and IDs, or says why it is not one. */
export function parseDeviceTopic(topic: string): DeviceTopic | TopicParseFailure {
  if (topic.length > MAX_TOPIC_LENGTH || !topic.startsWith(`${TOPIC_ROOT}/`)) {
    return { ok: false, reason: 'NOT_PULSE_TOPIC' };
  }
  const [, tenantId = '', deviceId = '', ...rest] = topic.split('/');
  if (!isValidId(tenantId)) return { ok: false, reason: 'INVALID_TENANT_ID' };
  if (!isValidId(deviceId)) return { ok: false, reason: 'INVALID_DEVICE_ID' };
  const suffix = rest.join('/');
  // hasOwn: a suffix like `constructor` must not resolve through Object.prototype.
  const fixed = Object.hasOwn(FIXED_SUFFIXES, suffix) ? FIXED_SUFFIXES[suffix] : undefined;
  if (fixed !== undefined) return { ok: true, kind: fixed, tenantId, deviceId };
  if (rest[0] === 'commands' && (rest.length === 2 || (rest.length === 3 && rest[2] === 'ack'))) {
    const commandId = rest[1] ?? '';
    if (!isValidId(commandId)) return { ok: false, reason: 'INVALID_COMMAND_ID' };
    return { ok: true, kind: rest.length === 2 ? 'command' : 'commandAck', tenantId, deviceId, commandId };
  }
  return { ok: false, reason: 'UNKNOWN_KIND' };
}

const INBOUND_FILTER_SUFFIXES = ['status', 'heartbeat', 'telemetry', 'twin/reported', 'commands/+/ack', 'wireless/registrations'];

/**
 * Topic filters the server's ingest subscribes to, one per inbound kind. With `sharedGroup`, the
 * `$share/{group}/...` form so that several API instances split the stream (Mosquitto 2, EMQX,
 * HiveMQ); the embedded Aedes broker has no shared subscriptions, so call it without a group there.
 */
export function ingestSubscriptions(sharedGroup?: string): string[] {
  const filters = INBOUND_FILTER_SUFFIXES.map((suffix) => `${TOPIC_ROOT}/+/+/${suffix}`);
  if (sharedGroup === undefined) return filters;
  // A share name is one level without wildcards (MQTT 5 §4.8.2); the ID alphabet guarantees that.
  requireId('shared subscription group', sharedGroup);
  return filters.map((filter) => `$share/${sharedGroup}/${filter}`);
}

const WILDCARD = /[+#]/;

/**
 * Whether a device may publish to `topic`: only inbound kinds under its own prefix. Never
 * `twin/desired` or `commands/{id}`, which would let a device forge server instructions.
 */
export function deviceMayPublish(tenantId: string, deviceId: string, topic: string): boolean {
  const parsed = parseDeviceTopic(topic);
  return (
    parsed.ok &&
    parsed.tenantId === tenantId &&
    parsed.deviceId === deviceId &&
    (INBOUND_KINDS as readonly TopicKind[]).includes(parsed.kind)
  );
}

/**
 * Whether a device may subscribe to `filter`: its own `twin/desired`, and `commands/#`,
 * `commands/+` or `commands/{id}`. Tenant and device levels must be literal, so no filter reaches
 * outside its prefix (`pulse/#`, `pulse/+/...` and `#` are refused).
 */
export function deviceMaySubscribe(tenantId: string, deviceId: string, filter: string): boolean {
  if (!isValidId(tenantId) || !isValidId(deviceId)) return false;
  const prefix = deviceTopicPrefix(tenantId, deviceId);
  if (!filter.startsWith(prefix)) return false;
  const suffix = filter.slice(prefix.length);
  if (suffix === 'twin/desired' || suffix === 'commands/#' || suffix === 'commands/+') return true;
  const [first, commandId, ...more] = suffix.split('/');
  return first === 'commands' && more.length === 0 && isValidId(commandId);
}

/** Whether the server's service principal may publish to `topic`: anything under `pulse/`. */
export function serviceMayPublish(topic: string): boolean {
  return topic.startsWith(`${TOPIC_ROOT}/`) && !WILDCARD.test(topic);
}

/**
 * Whether the service principal may subscribe to `filter`: anything whose first level is literally
 * `pulse`. `$share/...` is refused because Aedes would treat it as a literal topic that never
 * matches, silently starving ingest; `$SYS` and `#` are outside the application's namespace.
 */
export function serviceMaySubscribe(filter: string): boolean {
  return filter === `${TOPIC_ROOT}/#` || filter.startsWith(`${TOPIC_ROOT}/`);
}
