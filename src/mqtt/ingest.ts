import type { TenantSession } from '../db/tenant-session.js';
import type { AppServices } from '../services.js';
import type { PayloadByKind } from './codec.js';
import type { InboundKind } from './topics.js';

/** A device message whose topic parsed and whose payload passed its schema. */
export interface InboundMessage<K extends InboundKind = InboundKind> {
  kind: K;
  tenantId: string;
  deviceId: string;
  /** Present for `commands/{commandId}/ack`. */
  commandId?: string;
  payload: PayloadByKind[K];
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
  kind: K;
  handle(session: TenantSession, message: InboundMessage<K>, services: AppServices): Promise<IngestOutcome>;
  /**
   * Optional set-based form: consecutive messages of this kind in a batch are applied in one call
   * (one statement instead of one per message). Must have the same effect as `handle` on each in
   * order, and return one outcome per message, in order.
   */
  handleMany?(session: TenantSession, messages: InboundMessage<K>[], services: AppServices): Promise<IngestOutcome[]>;
}

/** Builds a handler with its kind's payload type inferred. */
export function defineHandler<K extends InboundKind>(handler: IngestHandler<K>): IngestHandler<K> {
  return handler;
}

export const applied: IngestOutcome = { status: 'applied' };
export const duplicate: IngestOutcome = { status: 'duplicate' };
export function rejected(reason: string): IngestOutcome {
  return { status: 'rejected', reason };
}
