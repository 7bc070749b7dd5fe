import type { MqttClient } from 'mqtt';
import type { SessionRunner, TenantSession } from '../db/tenant-session.js';
import { serviceScope } from '../kernel/scope.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { AppServices } from '../services.js';
import { isTransientDatabaseError } from '../db/prisma-errors.js';
import { holdAcksUntilCommitted, type HeldMessage } from './ack-after-commit.js';
import { planBatch, type PlannedMessage } from './batch-plan.js';
import { decodePayload } from './codec.js';
import type { InboundTopic, IngestOutcome, InboundMessage } from './ingest.js';
import type { DeviceTopic, TopicTable } from './topics.js';

export interface BridgeOptions {
  client: MqttClient;
  runner: SessionRunner;
  services: AppServices;
  /** The modules' topics: where a message goes, its payload schema and its handler. */
  topics: TopicTable;
  metrics: Metrics;
  logger: Logger;
  /** `$share/<group>/` so several instances split the device traffic (Mosquitto 2, EMQX, HiveMQ). */
  sharedGroup?: string;
  /**
   * Largest number of messages applied in one transaction (default {@link DEFAULT_MAX_BATCH}). A
   * lane takes whatever has queued up to this, so batches grow with the backlog by themselves.
   */
  maxBatch?: number;
  /**
   * Transactions applied at once (default {@link DEFAULT_LANES}). Each device always maps to the
   * same lane, so one device's messages keep their order and lanes never contend for the same
   * device's rows.
   */
  lanes?: number;
  maxPayloadBytes?: number;
}

/** A message the bridge is done with: acknowledged (applied, duplicate or rejected) or failed. */
export interface SettledMessage {
  topic: string;
  outcome: IngestOutcome | { status: 'failed' };
}

export interface Bridge {
  /** Resolves when every message received so far has been processed (tests await this, not sleeps). */
  idle(): Promise<void>;
  /**
   * Calls `listener` for each message as it is settled; returns the unsubscribe function. Lets a
   * caller wait for a message it published itself, which `idle()` cannot: until the broker has
   * forwarded it, the bridge does not know it exists.
   */
  onSettled(listener: (message: SettledMessage) => void): () => void;
  /**
   * Stops taking messages and waits for the batches being applied. Messages queued behind them, and
   * those arriving later, are left unacknowledged, so the broker keeps them for the persistent
   * session and the next start.
   */
  stop(): Promise<void>;
}

const INGEST_SCOPE = serviceScope('mqtt-ingest');

/**
 * A transaction costs far more CPU (Prisma's interactive transaction, the round trips) than a
 * message in it, and a set-based handler's statement grows with devices, not messages: under a
 * backlog, the larger the batch the cheaper each message. Measured (BENCHMARKS.md, MQTT ingest):
 * 200 → 1,000 → 5,000 cut the bridge's CPU per message each time.
 */
export const DEFAULT_MAX_BATCH = 5_000;
/**
 * Two lanes keep a transaction in flight while the next batch is decoded, without splitting the
 * backlog into many small transactions: on the 2-core bench 2 lanes beat 4 (0.41–0.47× → 0.55–0.59×).
 */
export const DEFAULT_LANES = 2;

interface Lane {
  queue: Pending[];
  draining: Promise<void> | null;
}

/** FNV-1a: a stable, cheap spread of device keys over lanes. */
function laneIndex(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % count;
}

/** A queued message; it is its own entry in the batch plan (kind and device key). */
interface Pending extends PlannedMessage {
  held: HeldMessage;
  message: InboundMessage;
  /** `tenant/device`: its lane, and the order the batch plan keeps. */
  deviceKey: string;
}

/** What an inbound topic name resolves to, computed once per topic name (devices repeat theirs). */
interface Route {
  topic: DeviceTopic;
  inbound: InboundTopic;
  deviceKey: string;
  lane: Lane;
}

/**
 * Topic names remembered (each a few hundred bytes with its route): a fleet's heartbeat and
 * status topics. Past this the memory starts over rather than grow with whatever names arrive.
 */
const ROUTES_REMEMBERED = 20_000;

/**
 * The device channel: subscribes to device topics, validates every message at the edge, applies
 * messages that arrive together in one transaction, and acknowledges each (QoS 1 PUBACK) only
 * after its effect is committed. A message that cannot apply is counted, logged with its reason
 * and acknowledged (dropped); nothing a device sends can stop the loop.
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { client, runner, services, topics, metrics } = options;
  const log = options.logger.child({ module: 'mqtt-bridge' });
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  /** Set by stop(): a lane waiting for the database gives up; its messages stay unacknowledged for redelivery. */
  let stopping = false;
  const lanes: Lane[] = Array.from({ length: Math.max(1, options.lanes ?? DEFAULT_LANES) }, () => ({ queue: [], draining: null }));
  const laneOf = (deviceKey: string) => lanes[laneIndex(deviceKey, lanes.length)]!;
  const listeners = new Set<(message: SettledMessage) => void>();
  const notify = (held: HeldMessage, outcome: SettledMessage['outcome']) => {
    for (const listener of listeners) {
      try {
        listener({ topic: held.packet.topic, outcome });
      } catch (error) {
        log.error({ err: error }, 'settled listener failed');
      }
    }
  };

  const reject = (held: HeldMessage, kind: string, reason: string, detail: string) => {
    metrics.mqttRejected.inc({ kind, reason });
    metrics.mqttMessages.inc({ kind, outcome: 'rejected' });
    log.warn({ topic: held.packet.topic, kind, reason, detail }, 'device message dropped');
    held.acknowledge();
    notify(held, { status: 'rejected', reason });
  };

  const decodeOptions = { maxBytes: options.maxPayloadBytes };
  const routes = new Map<string, Route>();
  /** The route of an inbound device topic, or a rejection reason (not remembered: bad names are not repeated traffic). */
  const routeOf = (name: string): Route | { kind: string; reason: string; detail: string } => {
    const known = routes.get(name);
    if (known) return known;
    const topic = topics.parse(name);
    if (!topic.ok) return { kind: 'unknown', reason: topic.reason, detail: name.slice(0, 200) };
    if (topic.direction === 'outbound') return { kind: topic.kind, reason: 'OUTBOUND_TOPIC', detail: 'server-to-device topic' };
    const deviceKey = `${topic.tenantId}/${topic.deviceId}`;
    const route: Route = { topic, inbound: topics.inboundTopic(topic.kind)!, deviceKey, lane: laneOf(deviceKey) };
    if (routes.size >= ROUTES_REMEMBERED) routes.clear();
    routes.set(name, route);
    return route;
  };

  const accept = (held: HeldMessage) => {
    const route = routeOf(held.packet.topic);
    if (!('topic' in route)) return reject(held, route.kind, route.reason, route.detail);
    const { topic, inbound, deviceKey, lane } = route;
    const kind = topic.kind;
    // A broker sets RETAIN towards a subscriber only on a stored message it replays at subscribe
    // time ([MQTT-3.3.1-9]; MQTT 5 without Retain As Published): something a device said before,
    // possibly long ago. Acting on it would fabricate state (an old `online` marking a device that
    // went offline ONLINE again after a restart), so no topic ever takes one. Live messages arrive
    // with RETAIN clear, whatever the device set.
    if (held.packet.retain) return reject(held, kind, 'RETAINED', 'retained message replayed by the broker');
    const raw = held.packet.payload;
    const decoded = decodePayload(inbound.payload, typeof raw === 'string' ? Buffer.from(raw) : raw, decodeOptions);
    if (!decoded.ok) return reject(held, kind, decoded.reason, decoded.detail);
    lane.queue.push({
      held,
      kind,
      deviceKey,
      message: {
        kind,
        tenantId: topic.tenantId,
        deviceId: topic.deviceId,
        params: topic.params,
        payload: decoded.value,
        receivedAt: new Date(),
        redelivered: held.packet.dup,
      } as InboundMessage,
    });
    lane.draining ??= drain(lane).finally(() => {
      lane.draining = null;
    });
  };

  const handlerOf = (kind: string) => topics.inboundTopic(kind) as InboundTopic;

  /** A batch whose kinds all send only raw SQL skips Prisma's interactive transaction (ingest.ts `sqlOnly`). */
  const transact = <T>(messages: readonly Pending[], work: (session: TenantSession) => Promise<T>): Promise<T> =>
    messages.every((item) => handlerOf(item.message.kind).sqlOnly === true) ? runner.runSql(INGEST_SCOPE, work) : runner.run(INGEST_SCOPE, work);

  const apply = async (session: TenantSession, message: InboundMessage): Promise<IngestOutcome> => {
    return handlerOf(message.kind).handle(session, message, services);
  };

  /**
   * Applies a batch with one handler call per kind per run (batch-plan.ts): consecutive messages
   * of one device and kind go to the handler's `handleMany` together with the other devices'
   * messages of that kind. Only within a device does order matter, and there it is kept: a
   * device's status between two of its heartbeats still applies between them.
   */
  const applyPlanned = async (session: TenantSession, batch: Pending[]): Promise<IngestOutcome[]> => {
    const outcomes = new Array<IngestOutcome>(batch.length);
    const steps = planBatch(batch, (kind) => handlerOf(kind).handleMany !== undefined);
    for (const step of steps) {
      if (step.positions.length === 1) {
        outcomes[step.positions[0]!] = await apply(session, batch[step.positions[0]!]!.message);
        continue;
      }
      const run = step.positions.map((position) => batch[position]!.message);
      const results = await handlerOf(step.kind).handleMany!(session, run, services);
      if (results.length !== run.length) throw new Error(`${step.kind} handleMany returned ${results.length} outcomes for ${run.length} messages`);
      step.positions.forEach((position, index) => {
        outcomes[position] = results[index]!;
      });
    }
    return outcomes;
  };

  const settle = (item: Pending, outcome: IngestOutcome) => {
    if (outcome.status === 'rejected') return reject(item.held, item.message.kind, outcome.reason, `${item.message.tenantId}/${item.message.deviceId}`);
    metrics.mqttMessages.inc({ kind: item.message.kind, outcome: outcome.status });
    item.held.acknowledge();
    notify(item.held, outcome);
  };

  /** {@link settle} for a committed batch, counting once per kind and outcome rather than per message. */
  const settleBatch = (batch: Pending[], outcomes: IngestOutcome[]) => {
    // By kind, then outcome: no key to build per message.
    const counts = new Map<string, Map<string, number>>();
    batch.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.status === 'rejected') return settle(item, outcome);
      let byOutcome = counts.get(item.kind);
      if (!byOutcome) counts.set(item.kind, (byOutcome = new Map()));
      byOutcome.set(outcome.status, (byOutcome.get(outcome.status) ?? 0) + 1);
      item.held.acknowledge();
      if (listeners.size > 0) notify(item.held, outcome);
    });
    for (const [kind, byOutcome] of counts) for (const [outcome, count] of byOutcome) metrics.mqttMessages.inc({ kind, outcome }, count);
  };

  async function drain(lane: Lane): Promise<void> {
    // Let a burst that arrived in the same tick join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    let backoffMs = 0;
    while (lane.queue.length > 0) {
      // Stopping: the batch in flight commits (and is acknowledged); what waits behind it is left
      // unacknowledged for the broker to redeliver to the next start, so a long queue cannot hold the stop.
      if (stopping) {
        lane.queue.length = 0;
        return;
      }
      const batch = lane.queue.splice(0, maxBatch);
      try {
        const outcomes = await transact(batch, (session) => applyPlanned(session, batch));
        settleBatch(batch, outcomes);
        backoffMs = 0;
      } catch (error) {
        let retry: Pending[] = batch;
        if (!isTransientDatabaseError(error)) {
          log.warn({ err: error, size: batch.length }, 'batch failed; applying its messages one by one');
          retry = await applyEachAlone(batch);
          if (retry.length === 0) continue;
        }
        // The database is unavailable: keep the messages unacknowledged (the broker holds the rest
        // back once its in-flight window is full) and try again, instead of dropping them.
        lane.queue.unshift(...retry);
        if (stopping) return;
        backoffMs = Math.min(backoffMs === 0 ? 100 : backoffMs * 2, 5_000);
        metrics.mqttRetries.inc();
        log.warn({ err: error, pending: lane.queue.length, retryInMs: backoffMs }, 'database unavailable; device messages held back');
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
  }

  /**
   * Each message in its own transaction, so one bad message cannot hold back the rest of a batch.
   * Returns the messages not tried because the database became unavailable (to be retried).
   */
  async function applyEachAlone(batch: Pending[]): Promise<Pending[]> {
    for (let index = 0; index < batch.length; index += 1) {
      if (!(await applyAlone(batch[index]!))) return batch.slice(index);
    }
    return [];
  }

  /** Applies and settles one message; false when the database is unavailable (not settled). */
  async function applyAlone(item: Pending): Promise<boolean> {
    try {
      settle(item, await transact([item], (session) => apply(session, item.message)));
      return true;
    } catch (error) {
      if (isTransientDatabaseError(error)) return false;
      metrics.mqttMessages.inc({ kind: item.message.kind, outcome: 'failed' });
      metrics.mqttRejected.inc({ kind: item.message.kind, reason: 'PROCESSING_ERROR' });
      log.error({ err: error, tenantId: item.message.tenantId, deviceId: item.message.deviceId, kind: item.message.kind }, 'device message failed');
      // Acknowledged all the same: holding it would stall the broker's in-flight window, and a
      // redelivery of a message that fails deterministically would fail again.
      item.held.acknowledge();
      notify(item.held, { status: 'failed' });
      return true;
    }
  }

  async function drained(): Promise<void> {
    for (let busy = lanes.filter((lane) => lane.draining); busy.length > 0; busy = lanes.filter((lane) => lane.draining)) {
      await Promise.all(busy.map((lane) => lane.draining));
    }
  }

  // Usually installed by connectServiceClient before connecting; messages buffered since then
  // (a persistent session's backlog) are delivered now.
  const gate = holdAcksUntilCommitted(client);
  gate.attach(accept);
  const filters = topics.ingestSubscriptions(options.sharedGroup);
  // MQTT 5: Retain Handling 2, the broker sends no retained messages at subscribe ([MQTT-3.3.1-11]);
  // 3.1.1 has no such option, so the check in accept() is what holds there.
  await client.subscribeAsync(filters, { qos: 1, ...(client.options.protocolVersion === 5 && { rh: 2 }) });
  log.info({ filters }, 'subscribed to device topics');

  return {
    async idle() {
      await drained();
    },
    onSettled(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      stopping = true;
      gate.attach(null);
      // Alone, the subscriptions stay in the persistent session, so the broker queues what devices
      // send while this instance restarts. In a shared group the other members take the traffic;
      // staying subscribed would have the broker keep dealing this instance a share it never reads.
      if (options.sharedGroup !== undefined) await client.unsubscribeAsync(filters).catch(() => undefined);
      await drained();
    },
  };
}
