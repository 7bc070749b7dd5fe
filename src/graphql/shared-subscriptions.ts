import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import { sendTextFrame, textFrame } from './prebuilt-frames.js';

/** Where one subscriber's results go: its socket and the id of its `subscribe` message. */
export interface SubscriberDelivery {
  socket: WebSocket;
  id: string;
}

type Ending = { error: unknown } | null;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Bytes a socket may have waiting to be written before it is closed as too slow (1013, "try
 * again later"). Messages are written without waiting for the previous one to drain, so a client
 * that stops reading must not make the server hold its events without bound.
 */
export const MAX_SOCKET_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * One subscriber of a group, as graphql-ws sees it: an async iterator that yields nothing (the
 * group writes this subscriber's `next` messages to its socket itself) and settles when the
 * subscription ends — done when the source completed, rejected with the source's error. graphql-ws
 * then sends `complete` or `error` for this operation id, after every `next` already written.
 * `return()` (the client's `complete`, or its socket closing) takes it out of the group.
 */
class GroupMember implements AsyncIterableIterator<never> {
  private ended = false;
  private ending: Ending = null;
  private waiting: { resolve: (result: IteratorReturnResult<undefined>) => void; reject: (error: unknown) => void } | null = null;
  /** `{"id":…,"type":"next","payload":` for this subscriber's id, built once. */
  readonly messagePrefix: string;

  constructor(
    readonly delivery: SubscriberDelivery,
    private readonly leave: (member: GroupMember) => void,
  ) {
    this.messagePrefix = `{"id":${JSON.stringify(delivery.id)},"type":"next","payload":`;
  }

  next(): Promise<IteratorResult<never>> {
    if (this.ended) return this.ending ? Promise.reject(this.ending.error) : Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<never>> {
    this.end(null);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** Ends this subscriber once: leaves the group, settles graphql-ws' pending `next()`. */
  end(ending: Ending): void {
    if (this.ended) return;
    this.ended = true;
    this.ending = ending;
    this.leave(this);
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    if (ending) waiting.reject(ending.error);
    else waiting.resolve(DONE);
  }
}

/**
 * Subscribers whose results are necessarily identical — same tenant and role (what row-level
 * security shows), same document, operation and variables — share one execution per event: one
 * source stream (one bus listener, one filter pass), one execution, one `JSON.stringify`, and the
 * same message text written to each socket (built once per distinct operation id).
 *
 * A subscriber receives the group's results from the one after it joined; the results keep the
 * source's order, so each subscription's events stay in order. One whose event was being executed
 * at the moment it joined may receive that event: it was published as the subscription started,
 * which a subscription of its own might have seen or not.
 */
class SubscriptionGroup {
  readonly members = new Set<GroupMember>();
  private closed = false;

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    private readonly onClosed: () => void,
  ) {}

  get open(): boolean {
    return !this.closed;
  }

  join(delivery: SubscriberDelivery): GroupMember {
    const member = new GroupMember(delivery, (left) => this.leave(left));
    this.members.add(member);
    return member;
  }

  /** Reads the source until it ends; results go to every member in the order the source yields them. */
  async pump(): Promise<void> {
    let ending: Ending = null;
    try {
      for (;;) {
        const step = await this.source.next();
        if (step.done || this.closed) break;
        this.deliver(step.value);
      }
    } catch (error) {
      ending = { error };
    }
    this.markClosed();
    for (const member of [...this.members]) member.end(ending);
  }

  private deliver(result: ExecutionResult): void {
    // The payload graphql-ws would build: the result with its errors in their JSON form.
    const { errors, ...rest } = result;
    const payload = JSON.stringify(errors ? { ...rest, errors: errors.map((error) => error.toJSON()) } : rest);
    // One message (and its WebSocket frame, prebuilt-frames.ts) per distinct operation id, the same
    // bytes handed to every socket that uses it: clients that number operations per socket ('1',
    // '2', …) share them; graphql-ws' own client (random UUIDs) costs one small Buffer per
    // subscriber, never a stringify.
    const messages = new Map<string, { message: Buffer; frame: Buffer }>();
    for (const member of this.members) {
      const { socket } = member.delivery;
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > MAX_SOCKET_BACKLOG_BYTES) {
        socket.close(1013, 'Too far behind on subscription events');
        continue;
      }
      let encoded = messages.get(member.messagePrefix);
      if (!encoded) {
        const message = Buffer.from(`${member.messagePrefix}${payload}}`);
        messages.set(member.messagePrefix, (encoded = { message, frame: textFrame(message) }));
      }
      sendTextFrame(socket, encoded.message, encoded.frame);
    }
  }

  private leave(member: GroupMember): void {
    this.members.delete(member);
    if (this.members.size > 0 || this.closed) return;
    // The last subscriber left: stop listening (a pending `next()` of the source ends with done).
    this.markClosed();
    void this.source.return?.()?.catch(() => undefined);
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
  }
}

/** Closes a source stream that is not needed, after it was pulled once (see {@link SharedSubscriptions.join}). */
function discard(source: AsyncIterable<ExecutionResult>): void {
  const iterator = source[Symbol.asyncIterator]();
  iterator.next().catch(() => undefined);
  void iterator.return?.()?.catch(() => undefined);
}

/** The groups of one WebSocket server, by share key. */
export class SharedSubscriptions {
  private readonly groups = new Map<string, SubscriptionGroup>();

  /**
   * Adds a subscriber to the group of `key`, or starts that group with `source`, the subscriber's
   * own source stream. Each subscriber ran its own subscribe phase before (authorisation, its
   * arguments checked, NotFound for an unknown group), exactly as a separate subscription does.
   * A joiner's own stream is then not needed: it is pulled once — so it attaches to the event bus
   * and detaches again as a subscription of its own would (test/harness/listeners.ts waits on
   * that) — and closed; the member is in the group before that pull, so it misses no event.
   */
  join(key: string, source: AsyncIterable<ExecutionResult>, delivery: SubscriberDelivery): AsyncIterableIterator<never> {
    const existing = this.groups.get(key);
    if (existing?.open) {
      const member = existing.join(delivery);
      discard(source);
      return member;
    }
    const group: SubscriptionGroup = new SubscriptionGroup(source[Symbol.asyncIterator](), () => {
      if (this.groups.get(key) === group) this.groups.delete(key);
    });
    this.groups.set(key, group);
    const member = group.join(delivery);
    void group.pump();
    return member;
  }
}

/** JSON with object keys sorted, so variables given in another key order share a group too. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, entry]) => entry !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([name, entry]) => `${JSON.stringify(name)}:${canonicalJson(entry)}`).join(',')}}`;
}
