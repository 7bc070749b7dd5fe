/**
 * The MQTT topic scheme `pulse/{tenantId}/{deviceId}/...`: a table built from the topics the
 * modules declare, for parsing, building, the ingest subscriptions and the pure access rules the
 * embedded broker enforces. Everything that knows how a topic string is shaped lives here.
 */
import { isValidId } from '../kernel/ids.js';
import type { InboundKind, InboundTopic, OutboundTopic } from './ingest.js';

/** First topic level of every Pulse topic. */
export const TOPIC_ROOT = 'pulse';

// IDs are one topic level each: the single definition lives in kernel/ids.ts.
export { ID_PATTERN as idPattern, idSchema, isValidId } from '../kernel/ids.js';

/** A topic that parsed: which kind, which direction, whose, and its `{name}` levels. */
export interface DeviceTopic {
  ok: true;
  direction: 'inbound' | 'outbound';
  kind: string;
  tenantId: string;
  deviceId: string;
  params: Record<string, string>;
}

/** Why a topic is not a Pulse device topic; callers count and log it, never throw. */
export interface TopicParseFailure {
  ok: false;
  /** NOT_PULSE_TOPIC, INVALID_TENANT_ID, INVALID_DEVICE_ID, INVALID_<PARAM>_ID or UNKNOWN_KIND. */
  reason: string;
}

type Segment = { literal: string } | { param: string };

interface CompiledTopic {
  direction: 'inbound' | 'outbound';
  kind: string;
  pattern: string;
  segments: Segment[];
}

const PARAM = /^\{([A-Za-z][A-Za-z0-9]*)\}$/;
const LITERAL = /^[a-z][a-z0-9_-]*$/;

function compile(direction: CompiledTopic['direction'], kind: string, pattern: string): CompiledTopic {
  const segments = pattern.split('/').map((level): Segment => {
    const param = PARAM.exec(level);
    if (param) return { param: param[1]! };
    if (!LITERAL.test(level)) throw new TypeError(`topic ${kind}: level ${JSON.stringify(level)} is neither a literal nor {name}`);
    return { literal: level };
  });
  return { direction, kind, pattern, segments };
}

/** Two patterns overlap when some concrete topic matches both: the table refuses that. */
function overlaps(a: CompiledTopic, b: CompiledTopic): boolean {
  return (
    a.segments.length === b.segments.length &&
    a.segments.every((segment, index) => {
      const other = b.segments[index]!;
      return 'param' in segment || 'param' in other || segment.literal === other.literal;
    })
  );
}

function requireId(label: string, value: string): string {
  if (!isValidId(value)) throw new TypeError(`invalid ${label} for an MQTT topic: ${JSON.stringify(value)}`);
  return value;
}

/** `commandId` → `INVALID_COMMAND_ID`. */
function invalidParamReason(param: string): string {
  const words = param.replace(/Id$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return `INVALID_${words.toUpperCase()}_ID`;
}

/**
 * `pulse/{tenantId}/{deviceId}/`, with the trailing slash so that a `startsWith` check on it can
 * never confuse device `a` with device `ab`. Throws a `TypeError` for an invalid ID.
 */
export function deviceTopicPrefix(tenantId: string, deviceId: string): string {
  return `${TOPIC_ROOT}/${requireId('tenantId', tenantId)}/${requireId('deviceId', deviceId)}/`;
}

/**
 * A concrete device topic from a pattern such as `commands/{commandId}`. IDs are validated (a
 * `TypeError` for a bad one is a programming error: IDs are validated where they enter the
 * system, so a topic is never built from junk).
 */
export function deviceTopic(tenantId: string, deviceId: string, pattern: string, params: Record<string, string> = {}): string {
  const suffix = pattern
    .split('/')
    .map((level) => {
      const param = PARAM.exec(level);
      if (!param) return level;
      const value = params[param[1]!];
      if (value === undefined) throw new TypeError(`missing ${param[1]} for topic ${pattern}`);
      return requireId(param[1]!, value);
    })
    .join('/');
  return `${deviceTopicPrefix(tenantId, deviceId)}${suffix}`;
}

export interface TopicTable {
  readonly inbound: readonly InboundTopic[];
  readonly outbound: readonly OutboundTopic[];
  /** The inbound topic of a kind (its payload schema and handler), if a module declared it. */
  inboundTopic(kind: string): InboundTopic | undefined;
  /** Parses a concrete topic name (no wildcards) into its kind and IDs, or says why it is not one. */
  parse(topic: string): DeviceTopic | TopicParseFailure;
  /**
   * Filters the server's ingest subscribes to, one per inbound kind. With `sharedGroup`, the
   * `$share/{group}/...` form so that several API instances split the stream (Mosquitto 2, EMQX,
   * HiveMQ); the embedded Aedes broker has no shared subscriptions, so call it without a group there.
   */
  ingestSubscriptions(sharedGroup?: string): string[];
  /**
   * Whether a device may publish to `topic`: only inbound kinds under its own prefix. Never an
   * outbound topic (`twin/desired`, `commands/{id}`), which would let a device forge server instructions.
   */
  deviceMayPublish(tenantId: string, deviceId: string, topic: string): boolean;
  /**
   * Whether a device may subscribe to `filter`: an outbound topic under its own prefix, where an
   * ID level may be `+`, or `#` in its place ends the filter. Tenant and device levels must be
   * literal, so no filter reaches outside its prefix (`pulse/#`, `pulse/+/...` and `#` are refused).
   */
  deviceMaySubscribe(tenantId: string, deviceId: string, filter: string): boolean;
}

/** Builds the topic table; throws on two kinds with one name or two patterns that overlap. */
export function createTopicTable(inbound: readonly InboundTopic[], outbound: readonly OutboundTopic[]): TopicTable {
  const compiled = [
    ...inbound.map((topic) => compile('inbound', topic.kind, topic.topic)),
    ...outbound.map((topic) => compile('outbound', topic.kind, topic.topic)),
  ];
  compiled.forEach((topic, index) => {
    for (const other of compiled.slice(index + 1)) {
      if (other.kind === topic.kind) throw new TypeError(`topic kind ${topic.kind} is declared twice`);
      if (overlaps(topic, other)) throw new TypeError(`topics ${topic.pattern} (${topic.kind}) and ${other.pattern} (${other.kind}) overlap`);
    }
  });
  const byKind = new Map(inbound.map((topic) => [topic.kind as string, topic as unknown as InboundTopic]));
  // Longest valid topic: pulse/ + tenant/ + device/ + the longest pattern with 128-character IDs;
  // anything longer is refused before splitting, so a 64 KiB topic name costs nothing.
  const maxLength =
    TOPIC_ROOT.length + 2 * 129 + 1 + Math.max(0, ...compiled.map((topic) => topic.segments.reduce((sum, s) => sum + ('param' in s ? 128 : s.literal.length) + 1, 0)));

  const match = (topic: CompiledTopic, levels: string[]): Record<string, string> | TopicParseFailure | null => {
    if (levels.length !== topic.segments.length) return null;
    const params: Record<string, string> = {};
    let invalid: TopicParseFailure | null = null;
    for (const [index, segment] of topic.segments.entries()) {
      const level = levels[index]!;
      if ('literal' in segment) {
        if (segment.literal !== level) return null;
      } else if (isValidId(level)) params[segment.param] = level;
      else invalid ??= { ok: false, reason: invalidParamReason(segment.param) };
    }
    return invalid ?? params;
  };

  const parse = (topic: string): DeviceTopic | TopicParseFailure => {
    if (topic.length > maxLength || !topic.startsWith(`${TOPIC_ROOT}/`)) return { ok: false, reason: 'NOT_PULSE_TOPIC' };
    const [, tenantId = '', deviceId = '', ...rest] = topic.split('/');
    if (!isValidId(tenantId)) return { ok: false, reason: 'INVALID_TENANT_ID' };
    if (!isValidId(deviceId)) return { ok: false, reason: 'INVALID_DEVICE_ID' };
    let invalid: TopicParseFailure | null = null;
    for (const candidate of compiled) {
      const result = match(candidate, rest);
      if (result === null) continue;
      if ('ok' in result) {
        invalid ??= result as TopicParseFailure;
        continue;
      }
      return { ok: true, direction: candidate.direction, kind: candidate.kind, tenantId, deviceId, params: result as Record<string, string> };
    }
    return invalid ?? { ok: false, reason: 'UNKNOWN_KIND' };
  };

  const outboundTopics = compiled.filter((topic) => topic.direction === 'outbound');
  const subscribable = (levels: string[]): boolean =>
    outboundTopics.some((topic) => {
      const last = levels.length - 1;
      if (levels[last] === '#') {
        // `#` may stand for the rest of the topic from an ID level on (`commands/#`).
        const next = topic.segments[last];
        if (!next || !('param' in next)) return false;
        return levels.slice(0, last).every((level, index) => levelMatches(topic.segments[index]!, level));
      }
      return levels.length === topic.segments.length && levels.every((level, index) => levelMatches(topic.segments[index]!, level));
    });

  return {
    inbound,
    outbound,
    inboundTopic: (kind) => byKind.get(kind),
    parse,
    ingestSubscriptions(sharedGroup) {
      const filters = compiled
        .filter((topic) => topic.direction === 'inbound')
        .map((topic) => `${TOPIC_ROOT}/+/+/${topic.segments.map((s) => ('param' in s ? '+' : s.literal)).join('/')}`);
      if (sharedGroup === undefined) return filters;
      // A share name is one level without wildcards (MQTT 5 §4.8.2); the ID alphabet guarantees that.
      requireId('shared subscription group', sharedGroup);
      return filters.map((filter) => `$share/${sharedGroup}/${filter}`);
    },
    deviceMayPublish(tenantId, deviceId, topic) {
      const parsed = parse(topic);
      return parsed.ok && parsed.direction === 'inbound' && parsed.tenantId === tenantId && parsed.deviceId === deviceId;
    },
    deviceMaySubscribe(tenantId, deviceId, filter) {
      if (!isValidId(tenantId) || !isValidId(deviceId)) return false;
      const prefix = deviceTopicPrefix(tenantId, deviceId);
      if (!filter.startsWith(prefix)) return false;
      return subscribable(filter.slice(prefix.length).split('/'));
    },
  };
}

function levelMatches(segment: Segment, level: string): boolean {
  return 'literal' in segment ? segment.literal === level : level === '+' || isValidId(level);
}

const WILDCARD = /[+#]/;

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

export type { InboundKind };
