import type { z } from 'zod';
import type { TenantSession } from '../db/tenant-session.js';
import type { AppServices } from '../services.js';

/**
 * The decoded payload type of each inbound (device → server) topic kind. Empty here: each module
 * adds its kinds by declaration merging next to the topic it defines, e.g.
 * `declare module '../../mqtt/ingest.js' { interface InboundPayloads { heartbeat: HeartbeatPayload } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InboundPayloads {}

export type InboundKind = keyof InboundPayloads & string;

/** A device message whose topic parsed and whose payload passed its schema. */
export interface InboundMessage<K extends InboundKind = InboundKind> {
  kind: K;
  tenantId: string;
  deviceId: string;
  /** The topic's `{name}` levels after the device, e.g. `{ commandId }` for `commands/{commandId}/ack`. */
  params: Readonly<Record<string, string>>;
  payload: InboundPayloads[K];
  /** When the bridge received it; handlers use it when the payload carries no timestamp. */
  receivedAt: Date;
  /** The broker redelivered it (DUP flag): effects must already be idempotent, this is for logs. */
  redelivered: boolean;
}

/**
 * What a handler did with a message. `applied` and `duplicate` are acknowledged; `rejected` is
 * acknowledged too (dropped, counted and logged with the reason: redelivering a message that can
 * never apply would loop forever). Only an exception leaves the message unacknowledged.
 */
export type IngestOutcome = { status: 'applied' } | { status: 'duplicate' } | { status: 'rejected'; reason: string };

/**
 * A topic handler: an adapter from a validated message to a service call. It runs inside the
 * batch's transaction (service role), so it must address rows by the message's tenant and device
 * explicitly, and must be idempotent: a redelivered message changes nothing twice.
 */
export interface IngestHandler<K extends InboundKind = InboundKind> {
  /**
   * True when the handlers reach the database only through `session.query` (plus publish,
   * afterCommit and savepoint), never `session.db`: a batch of such kinds then runs without
   * Prisma (`SessionRunner.runSql`), where `session.db` throws.
   */
  sqlOnly?: boolean;
  handle(session: TenantSession, message: InboundMessage<K>, services: AppServices): Promise<IngestOutcome>;
  /**
   * Optional set-based form: consecutive messages of this kind in a batch are applied in one call
   * (one statement instead of one per message). Must have the same effect as `handle` on each in
   * order, and return one outcome per message, in order.
   */
  handleMany?(session: TenantSession, messages: InboundMessage<K>[], services: AppServices): Promise<IngestOutcome[]>;
}

/**
 * A device → server topic a module handles: its kind, its topic below the device prefix (levels
 * written `{name}` carry an ID, e.g. `commands/{commandId}/ack`), its payload schema and handler.
 */
export interface InboundTopic<K extends InboundKind = InboundKind> extends IngestHandler<K> {
  kind: K;
  topic: string;
  payload: z.ZodType<InboundPayloads[K], unknown>;
  /** For device makers (docs/device-protocol.md) and the topic listing. */
  description: string;
}

/** A server → device topic a module publishes; devices may subscribe to it, never publish it. */
export interface OutboundTopic {
  kind: string;
  topic: string;
  qos: 0 | 1;
  retain: boolean;
  description: string;
}

/**
 * The MQTT will a device may leave at CONNECT: one inbound kind (its offline status) whose payload
 * must pass `accepts`, checked by the embedded broker before the session is admitted.
 */
export interface DeviceWill<K extends InboundKind = InboundKind> {
  kind: K;
  topic: string;
  payload: z.ZodType<InboundPayloads[K], unknown>;
  accepts(payload: InboundPayloads[K]): boolean;
  /** What an accepted will looks like, for the refusal message. */
  description: string;
}

/** An inbound topic of any kind (a union over the kinds, so each keeps its own payload type). */
export type AnyInboundTopic = { [K in InboundKind]: InboundTopic<K> }[InboundKind];
export type AnyDeviceWill = { [K in InboundKind]: DeviceWill<K> }[InboundKind];

/** Declares an inbound topic with its payload type inferred from the kind. */
export function defineInboundTopic<K extends InboundKind>(topic: InboundTopic<K>): InboundTopic<K> {
  return topic;
}

export const applied: IngestOutcome = { status: 'applied' };
export const duplicate: IngestOutcome = { status: 'duplicate' };
export function rejected(reason: string): IngestOutcome {
  return { status: 'rejected', reason };
}
